#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Makes the man pages of outboxctl and outbox-console and the bash completion of outboxctl from the programs'
# own --help, so they cannot drift from it: every command, option and argument comes from there; only the
# sections --help has no room for (exit status, environment, files, examples) are written here.
# Run by the build (CMake target "manpages"); the package installs what it writes.
# Usage: packaging/manpages.sh OUTBOXCTL OUTBOX_CONSOLE VERSION OUTDIR
set -euo pipefail
ctl=${1:?usage: manpages.sh OUTBOXCTL OUTBOX_CONSOLE VERSION OUTDIR}
console=${2:?}
version=${3:?}
out=${4:?}
mkdir -p "$out"
export QT_QPA_PLATFORM=offscreen LC_ALL=C.UTF-8

# roff-safe text: backslashes, and a leading dot or quote that roff would read as a request.
esc() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"; }

# The options and arguments of one QCommandLineParser help text, as roff .TP paragraphs. --help-all (Qt's own
# options) is left out; -h/--help is kept once.
options_roff() {
  awk '
    function flush() {
      if (name != "") { printf ".TP\n%s\n%s\n", name, desc }
      name = ""; desc = ""
    }
    /^(Options|Arguments):/ { flush(); section = $1; next }
    section == "" { next }
    /^  [^ ]/ {
      flush()
      line = substr($0, 3)
      split(line, parts, /  +/)
      head = parts[1]
      desc = substr(line, length(head) + 1); sub(/^ +/, "", desc)
      if (head == "--help-all") { head = ""; desc = ""; next }
      if (section == "Arguments:") { name = "\\fI" head "\\fR"; next }
      # "-h, --help" or "--db <url>": names in bold, the value in italics.
      value = ""
      if (match(head, / <[^>]*>$/)) { value = substr(head, RSTART + 2, RLENGTH - 3); head = substr(head, 1, RSTART - 1) }
      gsub(/-/, "\\-", head)
      name = "\\fB" head "\\fR" (value != "" ? " \\fI" value "\\fR" : "")
      next
    }
    /^ +[^ ]/ { line = $0; sub(/^ +/, "", line); desc = desc " " line; next }
    /^$/ { flush() }
    END { flush() }
  '
}

# The one-line description of a help text (its second line).
description() { sed -n 2p; }

# --- outboxctl -----------------------------------------------------------------------------------------
commands=$("$ctl" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }')
[ -n "$commands" ] || { echo "manpages.sh: no commands in 'outboxctl --help'" >&2; exit 1; }
{
  cat <<EOF
.TH OUTBOXCTL 1 "" "outbox-console $version" "User Commands"
.SH NAME
outboxctl \\- enqueue, relay, inspect and repair the events of a transactional outbox
.SH SYNOPSIS
.B outboxctl
[\\fB\\-\\-db\\fR \\fIURL\\fR] \\fICOMMAND\\fR [\\fIoptions\\fR] [\\fIarguments\\fR]
.SH DESCRIPTION
An outbox holds events written in the same database transaction as the business data they describe.
.B outboxctl
writes events into an outbox, relays them as CloudEvents over HTTP (once, until nothing is due, or as a
service), lists and shows them with their delivery attempts, retries, replays and deletes them, and serves a
local CloudEvents endpoint for testing. The outbox is a SQLite file or a PostgreSQL database, named by
\\fB\\-\\-db\\fR \\fIURL\\fR: \\fBsqlite:///\\fR\\fIabs/path.db\\fR, \\fBsqlite:\\fR\\fIrel/path.db\\fR or
\\fBpostgresql://\\fR\\fIuser\\fR:\\fIpass\\fR@\\fIhost\\fR:\\fIport\\fR/\\fIdb\\fR.
.SH COMMANDS
EOF
  for c in $commands; do
    help=$("$ctl" "$c" --help)
    usage=$(printf '%s\n' "$help" | sed -n 1p | sed -e 's/^Usage: //' -e 's/\[options\]/[options]/')
    printf '.SS "%s"\n' "$(printf '%s' "$usage" | esc)"
    printf '%s\n' "$help" | description | esc
    printf '%s\n' "$help" | esc | options_roff
  done
  cat <<'EOF'
.SH EXIT STATUS
.TP
.B 0
Done.
.TP
.B 1
Failed at run time: events not delivered by \fBrelay \-\-once\fR or \fBrelay \-\-drain\fR, a database that
cannot be reached, an action that found nothing to act on.
.TP
.B 2
Bad usage or bad input: an unknown option, a malformed URL, invalid JSON, a file that is not an outbox.
Nothing was changed.
.PP
Every error is one line on standard error.
.SH ENVIRONMENT
.TP
.B OUTBOX_DB
The outbox when \fB\-\-db\fR is not given.
.TP
.B OUTBOX_\fINAME\fR
A setting of \fBrelay\fR, for each option \fB\-\-\fR\fIname\fR (upper case, \- as _), e.g.
\fBOUTBOX_TARGET\fR, \fBOUTBOX_BATCH_SIZE\fR. Options win over the environment, which wins over
\fB\-\-config\fR \fIFILE\fR.
.TP
.B http_proxy\fR, \fBhttps_proxy\fR, \fBno_proxy
The proxy the relayer sends through.
.TP
.B XDG_DATA_HOME
Where the default outbox lives.
.TP
.B OUTBOX_DEBUG
Set: log the engine's debug lines on standard error.
.SH FILES
.TP
.I $XDG_DATA_HOME/outbox-console/outbox-console/outbox.db
The default outbox (\fI~/.local/share/...\fR when \fBXDG_DATA_HOME\fR is not set).
.TP
.I /lib/systemd/system/outbox-relay.service
A systemd unit that runs \fBoutboxctl relay\fR as a service, with its settings in an environment file.
.SH EXAMPLES
.nf
outboxctl \-\-db sqlite:///var/lib/shop/shop.db init
outboxctl enqueue \-\-type com.example.order.created \-\-source /shop \-\-data '{"order":1}'
outboxctl relay \-\-target https://events.example.com/ingest \-\-mode batch \-\-drain
outboxctl \-\-db postgresql://relay@db/shop relay \-\-target http://localhost:8080/ \-\-metrics\-port 9464
outboxctl list \-\-status failed \-\-json
outboxctl retry \-\-all\-failed \-\-type com.example.order.created
outboxctl relayers
outboxctl receive \-\-port 8080
.fi
.SH SEE ALSO
.BR outbox-console (1)
EOF
} | gzip -9n > "$out/outboxctl.1.gz"

# --- outbox-console --------------------------------------------------------------------------------------
help=$("$console" --help)
{
  cat <<EOF
.TH OUTBOX-CONSOLE 1 "" "outbox-console $version" "User Commands"
.SH NAME
outbox-console \\- the operator console of a transactional outbox
.SH SYNOPSIS
.B outbox-console
[\\fIoptions\\fR] [\\fIFILE_OR_URL\\fR]
.SH DESCRIPTION
EOF
  printf '%s\n' "$help" | description | esc
  cat <<'EOF'
It shows the pending, failed and sent events of an outbox live, searches and filters them in the database,
retries, replays and deletes one, a selection, or all that match, relays them, and composes, sends and
receives CloudEvents with a local receiver that can simulate failures.
.SH OPTIONS
EOF
  printf '%s\n' "$help" | esc | options_roff
  cat <<'EOF'
.SH FILES
.TP
.I $XDG_DATA_HOME/outbox-console/demo.db
The demo outbox, opened when no outbox is given.
.TP
.I $XDG_CONFIG_HOME/outbox-console/outbox-console.conf
Recent outboxes and the relay panel's settings (never passwords or secrets).
.SH SEE ALSO
.BR outboxctl (1)
EOF
} | gzip -9n > "$out/outbox-console.1.gz"

# --- bash completion of outboxctl ------------------------------------------------------------------------
{
  cat <<'EOF'
# bash completion for outboxctl, generated from 'outboxctl --help' by packaging/manpages.sh
# SPDX-License-Identifier: MIT
_outboxctl()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} command="" i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            --db) ((i++)) ;;
            -*) ;;
            *) command=${COMP_WORDS[i]}; break ;;
        esac
    done
    local options="" files=""
    case $command in
EOF
  printf '        "") COMPREPLY=($(compgen -W "%s --db --help --version" -- "$cur")); return ;;\n' "$(echo $commands)"
  for c in $commands; do
    help=$("$ctl" "$c" --help)
    opts=$(printf '%s\n' "$help" | awk '/^Options:/ { on = 1; next } on && /^  -/ { print }' | grep -oE -- '--[a-z0-9-]+' | grep -vx -- '--help-all' | sort -u | tr '\n' ' ')
    takefile=$(printf '%s\n' "$help" | awk '/^Options:/ { on = 1; next } on && /^  -/ { print }' | { grep -oE -- '--[a-z0-9-]+ <[a-z]*(file|path)[a-z]*>' || true; } | cut -d' ' -f1 | tr '\n' '|')
    printf '        %s) options="%s"; files="%s" ;;\n' "$c" "${opts% }" "${takefile%|}"
  done
  cat <<'EOF'
        *) return ;;
    esac
    if [[ -n $files && "|$files|" == *"|$prev|"* ]]; then
        COMPREPLY=($(compgen -f -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -W "$options" -- "$cur"))
}
complete -F _outboxctl outboxctl
EOF
} > "$out/outboxctl.bash-completion"
