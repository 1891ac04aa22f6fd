//! Text from the other side made safe to show, log and print: what a peer
//! types (chat) and the names it gives (helper, host, display names) reach
//! prompts, terminals and log files, where control characters can rewrite
//! what a person sees (ANSI/OSC escape sequences, carriage returns) and
//! bidirectional overrides or invisible characters can make one name look
//! like another ("moc.elgoog" shown as "google.com"). Nothing here does I/O.

/// Whether `c` may change how the text around it is shown rather than be
/// shown itself: control characters (C0, DEL, C1), bidirectional marks,
/// embeddings, overrides and isolates, zero-width characters, and line and
/// paragraph separators.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Bidirectional marks, embeddings, overrides and isolates.
            '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
                // Zero-width spaces, joiners and the byte-order mark.
                | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{180E}'
                // Line and paragraph separators.
                | '\u{2028}' | '\u{2029}'
        )
}

/// Whether `c` is invisible formatting that is removed outright (a control
/// character is replaced by a space instead, so that words stay apart).
fn is_invisible_format(c: char) -> bool {
    is_unsafe_char(c) && !c.is_control() && !matches!(c, '\u{2028}' | '\u{2029}')
}

/// A name (one line) safe to show: control characters and separators
/// become spaces, bidirectional and zero-width characters are removed, the
/// result is cut to `max_chars` characters and trimmed.
pub fn clean_name(text: &str, max_chars: usize) -> String {
    text.chars()
        .filter(|&c| !is_invisible_format(c))
        .take(max_chars)
        .map(|c| if is_unsafe_char(c) { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Chat text safe to show: line breaks (`\n`) stay, a `\r\n` becomes `\n`,
/// tabs and every other control character become spaces (so no escape
/// sequence survives), bidirectional and zero-width characters are
/// removed.
pub fn clean_chat(text: &str) -> String {
    text.replace("\r\n", "\n")
        .chars()
        .filter(|&c| !is_invisible_format(c))
        .map(|c| match c {
            '\n' => '\n',
            c if is_unsafe_char(c) => ' ',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_escapes_bidi_and_invisible_characters() {
        assert_eq!(clean_name("Bob\n\u{1b}[31mEvil", 64), "Bob  [31mEvil");
        // "Right-to-left override": shown reversed without it.
        assert_eq!(clean_name("IT \u{202E}kcehc\u{202C}", 64), "IT kcehc");
        assert_eq!(
            clean_name("Ja\u{200B}ne\u{2066}\u{2069} Doe\u{FEFF}", 64),
            "Jane Doe"
        );
        assert_eq!(clean_name(&"x".repeat(100), 5), "xxxxx");
        // Cut after the invisible characters are gone, not before.
        assert_eq!(clean_name("\u{200B}\u{200B}abc", 3), "abc");
        assert_eq!(clean_name("\u{9b}31m x", 64), "31m x");
        assert_eq!(clean_name("Zoë 李 😀", 64), "Zoë 李 😀");
    }

    #[test]
    fn chat_keeps_its_lines_and_loses_escapes() {
        assert_eq!(clean_chat("one\r\ntwo\nthree"), "one\ntwo\nthree");
        // An OSC 52 (clipboard) and a cursor-movement sequence: ESC and BEL
        // are gone, so the terminal prints the rest as text.
        assert_eq!(
            clean_chat("\u{1b}]52;c;cm0gLXJm\u{7}\u{1b}[2Afake"),
            " ]52;c;cm0gLXJm  [2Afake"
        );
        assert_eq!(clean_chat("a\tb\rc\u{85}d"), "a b c d");
        assert_eq!(clean_chat("pay \u{202E}01$\u{202C} now"), "pay 01$ now");
        assert!(!clean_chat("\u{200D}\u{2028}x").chars().any(is_unsafe_char));
    }
}
