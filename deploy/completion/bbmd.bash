# bash completion for bbmd (installed as /usr/share/bash-completion/completions/bbmd): verbs and
# flags as `bbmd ... --help` lists them, so it always matches the installed binary; file names
# for the config file and other arguments.

# The entries of one section ("Subcommands:", "Options:") of a help text: first words only, and
# "-c,--count" as two words.
_bbmd_section() {
  awk -v want="$1" '
    /^[A-Za-z][A-Za-z ]*:$/ { in_section = ($0 == want); next }
    in_section && /^  [^ ]/ { n = split($1, names, ","); for (i = 1; i <= n; i++) print names[i] }
  ' <<<"$2"
}

_bbmd() {
  local cur="${COMP_WORDS[COMP_CWORD]}" bbmd="${COMP_WORDS[0]}" help word
  local -a verbs=()
  # The verbs typed so far (bbmd database migrate ...), up to the first word that is none.
  help="$("$bbmd" --help 2>/dev/null)" || return
  for word in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    [[ $word == -* ]] && continue
    grep -qx -- "$word" <<<"$(_bbmd_section Subcommands: "$help")" || break
    verbs+=("$word")
    help="$("$bbmd" "${verbs[@]}" --help 2>/dev/null)" || return
  done
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_bbmd_section Options: "$help")" -- "$cur")
    return
  fi
  local subcommands
  subcommands="$(_bbmd_section Subcommands: "$help")"
  if [[ -n $subcommands ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$subcommands" -- "$cur")
  else
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
  fi
}

complete -F _bbmd bbmd
