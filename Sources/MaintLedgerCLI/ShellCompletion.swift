import ArgumentParser

/// `--generate-completion-script`, with bash's script made to complete the colon commands.
///
/// Bash splits the words it completes at every character of COMP_WORDBREAKS, which holds ':'
/// by default: in `maintledger audit:v<TAB>` the generated script sees the words `audit`, `:`
/// and `v`, and offers nothing. The script's completion function is therefore called through
/// one that joins the pieces of a colon word again, and that leaves off, from what is offered,
/// the part of the word before its last ':' (bash keeps that part on the line and replaces only
/// the rest), as bash-completion's `__ltrim_colon_completions` does. zsh and fish keep colon
/// words whole; their scripts are ArgumentParser's own.
enum ShellCompletion {
    /// The bash script, when `arguments` ask for it: `--generate-completion-script bash`, or
    /// `=bash`, or no shell while bash is the user's shell. Nil for anything else.
    static func bashScript(for arguments: [String]) -> String? {
        let flag = "--generate-completion-script"
        let shell: CompletionShell?
        if arguments == [flag] {
            shell = CompletionShell.autodetected()
        } else if arguments.count == 2, arguments[0] == flag {
            shell = CompletionShell(rawValue: arguments[1])
        } else if arguments.count == 1, arguments[0].hasPrefix(flag + "=") {
            shell = CompletionShell(rawValue: String(arguments[0].dropFirst(flag.count + 1)))
        } else {
            return nil
        }
        guard shell == .bash else { return nil }
        let generated = MaintLedger.completionScript(for: .bash)
        let registration = "complete -o filenames -F _maintledger maintledger"
        precondition(generated.contains(registration), "ArgumentParser's bash script no longer registers _maintledger")
        return generated.replacingOccurrences(of: registration, with: colonWordsWrapper + "\n" + registration.replacingOccurrences(
            of: "-F _maintledger ", with: "-F __maintledger_whole_colon_words "))
    }

    private static var commandNames: String {
        MaintLedger.configuration.subcommands.map { $0.configuration.commandName ?? "" }.joined(separator: " ") + " help"
    }

    private static var colonWordsWrapper: String {
        #"""
        # bash splits words at ':' (COMP_WORDBREAKS): join `audit`, `:`, `verify` back into one
        # word before completing, and offer only what follows the last ':' of the current word.
        __maintledger_whole_colon_words() {
            local -a words=()
            local -i cword=0 index position=0 blanks
            local word rest cur_prefix=""
            for index in "${!COMP_WORDS[@]}"; do
                word="${COMP_WORDS[index]}"
                rest="${COMP_LINE:position}"
                rest="${rest%%[![:space:]]*}"
                blanks=${#rest}
                position+=blanks+${#word}
                if ((index > 0 && blanks == 0)) && [[ "${word}" == :* || "${words[${#words[@]}-1]}" == *: ]]; then
                    ((index == COMP_CWORD)) && cur_prefix="${words[${#words[@]}-1]}"
                    words[${#words[@]}-1]+="${word}"
                else
                    ((index == COMP_CWORD)) && cur_prefix=""
                    words+=("${word}")
                fi
                ((index == COMP_CWORD)) && cword=${#words[@]}-1
            done
            local cur="${cur_prefix}${2}"
            if ((cword == 1)) && [[ "${cur}" != -* ]]; then
                # The generated function offers nothing once the word is a whole command
                # (`addons`, `data:maintenances`), though longer ones begin with it.
                COMPREPLY=($(compgen -W '\#(commandNames)' -- "${cur}"))
            else
                local -a COMP_WORDS=("${words[@]}")
                local COMP_CWORD="${cword}"
                _maintledger "${1}" "${cur}" "${words[cword-1]}"
            fi
            if [[ "${cur}" == *:* ]]; then
                local colon_prefix="${cur%"${cur##*:}"}"
                for index in "${!COMPREPLY[@]}"; do
                    COMPREPLY[index]="${COMPREPLY[index]#"${colon_prefix}"}"
                done
            fi
        }
        """#
    }
}
