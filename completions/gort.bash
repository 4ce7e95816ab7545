# bash completion for gort. It asks the gort being completed for its own --help (subcommands, each
# subcommand's options, their value types and choices), so it never disagrees with the binary.

# _gort_help CMD [SUB]: the help text, cached per binary and subcommand for this shell.
_gort_help()
{
	local key="$1 $2" text
	if [[ -z ${_gort_help_cache[$key]+set} ]]; then
		if [[ -n $2 ]]; then text=$("$1" "$2" --help 2>/dev/null); else text=$("$1" --help 2>/dev/null); fi
		_gort_help_cache[$key]=$text
	fi
	printf '%s\n' "${_gort_help_cache[$key]}"
}

_gort()
{
	declare -gA _gort_help_cache 2>/dev/null
	local cur prev cmd=${COMP_WORDS[0]} sub= i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	local subs
	subs=$(_gort_help "$cmd" | awk '/^Subcommands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }' | tr '\n' ' ')
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ " $subs " == *" ${COMP_WORDS[i]} "* ]]; then sub=${COMP_WORDS[i]}; break; fi
	done
	if [[ -z $sub ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--help --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$subs" -- "$cur"))
		fi
		return
	fi

	# Options of the subcommand: "  -o,--output TEXT REQUIRED   text" -> names, and the value
	# type of each (an option with no type word is a flag).
	local help opts= line names type
	help=$(_gort_help "$cmd" "$sub")
	local -A value_of=()
	while IFS= read -r line; do
		[[ $line =~ ^\ \ (-[^ ]+)(\ +([A-Z]+[^ ]*))? ]] || continue
		names=${BASH_REMATCH[1]}
		type=${BASH_REMATCH[3]}
		for n in ${names//,/ }; do
			opts+=" $n"
			value_of[$n]=$type
		done
	done < <(awk '/^Options:/ { on = 1; next } on' <<<"$help")

	if [[ -n ${value_of[$prev]} ]]; then
		type=${value_of[$prev]}
		if [[ $type == *:\{*\}* ]]; then  # TEXT:{chrome,...}: the choices
			local choices=${type#*:\{}
			choices=${choices%%\}*}
			COMPREPLY=($(compgen -W "${choices//,/ }" -- "$cur"))
		elif [[ $prev == -p || $prev == --pid || $prev == --exclude-pid ]]; then
			COMPREPLY=($(compgen -W "$(cd /proc && printf '%s ' [0-9]*)" -- "$cur"))
		elif [[ $prev == -o || $prev == --output ]]; then
			COMPREPLY=($(compgen -f -- "$cur"))
		fi
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	elif grep -q '^Positionals:' <<<"$help"; then
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -F _gort gort
