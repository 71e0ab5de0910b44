#!/bin/sh
# gitml-managed-hook v1 (pre-commit). Written by `gitml hooks install`; edits are lost on reinstall.
# A hook that was here before gitml is kept byte-for-byte as pre-commit.pre-gitml and
# runs first (if it fails, the commit stops); `gitml hooks uninstall` puts it back.
GITML_PYTHON='@GITML_PYTHON@'
hook=pre-commit
unset CDPATH
hooks_dir=$(cd -- "$(dirname -- "$0")" && pwd -P) || exit 1
# Guard against a loop through a chained hook that calls this one again.
case ":${GITML_HOOKS_ACTIVE:-}:" in
*":$hooks_dir/$hook:"*) exit 0 ;;
esac
GITML_HOOKS_ACTIVE="${GITML_HOOKS_ACTIVE:+$GITML_HOOKS_ACTIVE:}$hooks_dir/$hook"
export GITML_HOOKS_ACTIVE
previous="$hooks_dir/$hook.pre-gitml"
if [ -f "$previous" ] && [ -x "$previous" ]; then
    "$previous" "$@" || exit $?
fi
if [ ! -x "$GITML_PYTHON" ]; then
    printf '%s\n' "gitml: cannot check this commit: $GITML_PYTHON (the Python gitml was installed with) is missing." >&2
    printf '%s\n' "gitml: the commit is blocked. Reinstall gitml and run 'gitml hooks install' here, or skip the checks once with 'git commit --no-verify'." >&2
    exit 1
fi
exec "$GITML_PYTHON" -m gitml hook pre-commit "$@"
