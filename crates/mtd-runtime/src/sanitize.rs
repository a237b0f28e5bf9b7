//! Making text that mtdhost did not write safe to show.
//!
//! Plugins (and, through them, partner exports) supply names, versions,
//! errors, diagnostics, log lines and ids that end up on an admin's terminal
//! and in logs. A terminal obeys what it is sent: ESC and OSC sequences clear
//! the screen or retitle the window, a carriage return lets a line overwrite
//! the one mtdhost printed, bidi overrides reorder what is read, zero-width
//! characters and line separators hide or split text. Every string that did
//! not come from mtdhost itself passes through [`clean`] before it is shown,
//! and free text a plugin wrote is shown [`quote`]d, so it cannot pass for
//! mtdhost's own words.
//!
//! Hand-written rather than `strip-ansi-escapes`: that crate covers ANSI
//! sequences only, and bidi, zero-width, tag and separator characters need
//! the same pass.

/// Text longer than this (in characters) is cut when quoted.
pub const QUOTE_MAX_CHARS: usize = 1_000;

/// Removes everything that could drive a terminal or hide text: C0/C1
/// controls, ESC/CSI/OSC/DCS sequences whole, bidi controls, zero-width and
/// invisible characters and Unicode tag characters. Tabs, line breaks,
/// carriage returns and line/paragraph separators become spaces.
pub fn clean(text: &str) -> String {
    if is_clean(text) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            // 8-bit CSI and OSC: terminals that honour C1 treat them as ESC [ and ESC ].
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            // Whitespace that breaks or rewinds a line becomes a space, so
            // words stay apart but the text stays on its line.
            '\t' | '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{85}' | '\u{2028}' | '\u{2029}' => out.push(' '),
            c if is_hidden(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// [`clean`], then cut to `max_chars` characters with an ellipsis.
pub fn clean_truncated(text: &str, max_chars: usize) -> String {
    let cleaned = clean(text);
    match cleaned.char_indices().nth(max_chars) {
        Some((at, _)) => format!("{}…", &cleaned[..at]),
        None => cleaned,
    }
}

/// A plugin's words as they appear inside an mtdhost message: cleaned, cut
/// at [`QUOTE_MAX_CHARS`], in double quotes with inner quotes and
/// backslashes escaped.
pub fn quote(text: &str) -> String {
    let cleaned = clean_truncated(text, QUOTE_MAX_CHARS);
    let mut out = String::with_capacity(cleaned.len() + 2);
    out.push('"');
    for c in cleaned.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// True when `text` has nothing [`clean`] would remove (the common case,
/// checked without allocating).
pub fn is_clean(text: &str) -> bool {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return true;
    }
    !text.chars().any(|c| is_hidden(c) || c == '\u{2028}' || c == '\u{2029}')
}

/// Characters that are dropped: controls and everything invisible or
/// direction-changing.
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00ad}'                      // soft hyphen
            | '\u{034f}'                    // combining grapheme joiner
            | '\u{061c}'                    // Arabic letter mark
            | '\u{115f}' | '\u{1160}'       // Hangul fillers
            | '\u{17b4}' | '\u{17b5}'
            | '\u{180e}'                    // Mongolian vowel separator
            | '\u{200b}'..='\u{200f}'       // zero-width space/joiners, LRM, RLM
            | '\u{202a}'..='\u{202e}'       // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}'       // word joiner, invisible operators
            | '\u{2066}'..='\u{206f}'       // bidi isolates, deprecated format controls
            | '\u{3164}' | '\u{ffa0}'       // Hangul fillers
            | '\u{feff}'                    // zero-width no-break space / BOM
            | '\u{fff9}'..='\u{fffb}'       // interlinear annotation
            | '\u{e0000}'..='\u{e007f}' // tag characters
        )
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// After ESC: drops the whole sequence it starts.
fn skip_escape(chars: &mut Chars<'_>) {
    match chars.peek().copied() {
        Some('[') => {
            chars.next();
            skip_csi(chars);
        }
        Some(']' | 'P' | 'X' | '^' | '_') => {
            chars.next();
            skip_string(chars);
        }
        // Two-character sequences (ESC c resets the terminal, ESC 7/8 save
        // and restore the cursor) and charset selections (ESC ( B).
        Some('(' | ')' | '*' | '+' | '#' | '%' | ' ') => {
            chars.next();
            chars.next();
        }
        Some(c) if ('\u{20}'..='\u{7e}').contains(&c) => {
            chars.next();
        }
        _ => {}
    }
}

/// CSI parameters up to and including the final byte.
fn skip_csi(chars: &mut Chars<'_>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            break;
        }
        if !('\u{20}'..='\u{3f}').contains(&c) {
            // Not a CSI parameter: the sequence was malformed; stop here.
            break;
        }
    }
}

/// OSC/DCS/SOS/PM/APC payload up to BEL, ST (ESC \) or 8-bit ST.
fn skip_string(chars: &mut Chars<'_>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{07}' | '\u{9c}' => break,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                break;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi_sequences_go_whole() {
        assert_eq!(clean("a\u{1b}[31mred\u{1b}[0m\r\x07b\tc"), "ared b c");
        assert_eq!(clean("\u{1b}[2J\u{1b}[Hplan OK"), "plan OK");
        assert_eq!(clean("x\u{1b}]0;owned title\u{07}y"), "xy");
        assert_eq!(clean("x\u{1b}]8;;http://evil\u{1b}\\link\u{1b}]8;;\u{1b}\\y"), "xlinky");
        assert_eq!(clean("x\u{1b}Pdcs payload\u{1b}\\y"), "xy");
        assert_eq!(clean("x\u{1b}cy\u{1b}(Bz"), "xyz");
        assert_eq!(clean("x\u{9b}31my"), "xy");
        assert_eq!(clean("x\u{9d}0;title\u{9c}y"), "xy");
    }

    #[test]
    fn invisible_and_direction_changing_characters_go() {
        let hostile = "ok\u{202e}gnp.exe\u{2066}\u{200b}\u{feff}\u{e0041}\u{2028}x\u{85}!";
        assert_eq!(clean(hostile), "okgnp.exe x !");
        assert!(!is_clean(hostile));
    }

    #[test]
    fn ordinary_text_is_kept() {
        for s in ["R&D Users", "O'Brien", "Zürich — 東京", "😀 emoji", "a\"b"] {
            assert!(is_clean(s), "{s}");
            assert_eq!(clean(s), s);
        }
    }

    #[test]
    fn quotes_escape_and_truncate() {
        assert_eq!(quote("say \"hi\" \\ now\n"), "\"say \\\"hi\\\" \\\\ now \"");
        let long = "x".repeat(5_000);
        let q = quote(&long);
        assert_eq!(q.chars().count(), QUOTE_MAX_CHARS + 3);
        assert!(q.ends_with("…\""));
    }
}
