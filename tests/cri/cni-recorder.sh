#!/bin/sh
# Stands in for a CNI plugin in the private containerd's bin_dir and records each
# call: the CNI_* variables, stdin, stdout, stderr and exit status, in a folder
# of its own under $CNT_CNI_RECORD_DIR (named so that `ls` sorts them by time).
# The real plugin is real/<this file's name> beside it; the runtime gets exactly
# what that one printed and its exit status.
name=$(basename "$0")
real="$(dirname "$0")/real/$name"
call="$CNT_CNI_RECORD_DIR/$(date +%s%N)-$$-$name"
mkdir -p "$call"
env | grep '^CNI_' > "$call/env"
cat > "$call/stdin"
"$real" < "$call/stdin" > "$call/stdout" 2> "$call/stderr"
rc=$?
cat "$call/stdout"
cat "$call/stderr" >&2
echo "$rc" > "$call/rc"
exit "$rc"
