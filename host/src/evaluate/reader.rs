//! Reading a partner export in batches with bounded memory.
//!
//! JSON Lines is read line by line; a top-level JSON array is split into its
//! elements by a small scanner (strings and nesting tracked byte by byte), so
//! a million-event export never has to fit in memory. A single pretty-printed
//! document (not one record per line) is read whole.

use std::io::{BufRead, BufReader, Read};

/// One batch of records, as JSON Lines text for the plugin.
pub(super) struct Batch {
    pub text: String,
    /// Number of the first record in the batch (1-based).
    pub first_record: u64,
}

/// Splits `input` into batches of up to `size` records and hands each to `f`.
pub(super) fn for_each_batch<R: Read>(
    input: R,
    size: usize,
    mut f: impl FnMut(Batch) -> Result<(), String>,
) -> Result<u64, String> {
    let mut reader = BufReader::with_capacity(1 << 16, input);
    let first = loop {
        let buf = reader.fill_buf().map_err(|e| e.to_string())?;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                let b = buf[i];
                reader.consume(i);
                break Some(b);
            }
            None if buf.is_empty() => break None,
            None => {
                let n = buf.len();
                reader.consume(n);
            }
        }
    };
    match first {
        None => Ok(0),
        Some(b'[') => array(reader, size, &mut f),
        Some(_) => lines(reader, size, &mut f),
    }
}

fn flush(
    f: &mut impl FnMut(Batch) -> Result<(), String>,
    text: &mut String,
    first: &mut u64,
    count: &mut u64,
) -> Result<(), String> {
    if *count > 0 {
        f(Batch { text: std::mem::take(text), first_record: *first })?;
        *first += *count;
        *count = 0;
    }
    Ok(())
}

fn lines<R: BufRead>(
    mut reader: R,
    size: usize,
    f: &mut impl FnMut(Batch) -> Result<(), String>,
) -> Result<u64, String> {
    let (mut text, mut first, mut count, mut total) = (String::new(), 1u64, 0u64, 0u64);
    let mut line = String::new();
    let mut first_line = true;
    loop {
        line.clear();
        let n = reader.read_line(&mut line).map_err(|e| format!("cannot read the events: {e}"))?;
        if n == 0 {
            break;
        }
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if first_line {
            first_line = false;
            // Not one record per line: a single (pretty-printed) document.
            if serde_json::from_str::<serde::de::IgnoredAny>(trimmed).is_err() && trimmed.starts_with('{') {
                let mut rest = String::new();
                reader.read_to_string(&mut rest).map_err(|e| format!("cannot read the events: {e}"))?;
                let whole = format!("{line}{rest}");
                f(Batch { text: whole, first_record: 1 })?;
                return Ok(1);
            }
        }
        text.push_str(trimmed);
        text.push('\n');
        count += 1;
        total += 1;
        if count as usize >= size {
            flush(f, &mut text, &mut first, &mut count)?;
        }
    }
    flush(f, &mut text, &mut first, &mut count)?;
    Ok(total)
}

fn array<R: BufRead>(
    mut reader: R,
    size: usize,
    f: &mut impl FnMut(Batch) -> Result<(), String>,
) -> Result<u64, String> {
    reader.consume(1); // '['
    let (mut text, mut first, mut count, mut total) = (String::new(), 1u64, 0u64, 0u64);
    let mut element: Vec<u8> = Vec::new();
    let (mut depth, mut in_string, mut escaped, mut done) = (0usize, false, false, false);
    let emit = |element: &mut Vec<u8>, text: &mut String, count: &mut u64, total: &mut u64| {
        let raw = String::from_utf8_lossy(element).trim().to_string();
        element.clear();
        if raw.is_empty() {
            return;
        }
        // Compact each element to one line so record numbers stay exact.
        match serde_json::from_str::<serde_json::Value>(&raw) {
            Ok(v) => text.push_str(&v.to_string()),
            Err(_) => text.push_str(&raw.replace(['\n', '\r'], " ")),
        }
        text.push('\n');
        *count += 1;
        *total += 1;
    };
    while !done {
        let buf = reader.fill_buf().map_err(|e| format!("cannot read the events: {e}"))?;
        if buf.is_empty() {
            return Err(format!("the JSON array is not closed (after record {total})"));
        }
        let (mut used, mut flush_now) = (0, false);
        for &b in buf {
            used += 1;
            if in_string {
                element.push(b);
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => {
                    in_string = true;
                    element.push(b);
                }
                b'{' | b'[' => {
                    depth += 1;
                    element.push(b);
                }
                b'}' | b']' if depth > 0 => {
                    depth -= 1;
                    element.push(b);
                }
                b']' => {
                    emit(&mut element, &mut text, &mut count, &mut total);
                    done = true;
                    break;
                }
                b',' if depth == 0 => {
                    emit(&mut element, &mut text, &mut count, &mut total);
                    if count as usize >= size {
                        flush_now = true;
                        break;
                    }
                }
                _ => element.push(b),
            }
        }
        reader.consume(used);
        if flush_now {
            flush(f, &mut text, &mut first, &mut count)?;
        }
    }
    flush(f, &mut text, &mut first, &mut count)?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &str, size: usize) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        for_each_batch(input.as_bytes(), size, |b| {
            out.push((b.first_record, b.text));
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn arrays_are_split_into_compact_records() {
        let got = collect("[\n {\"a\": \"x,]}\"},\n {\"b\": [1, 2]},\n {\"c\": 3}\n]\n", 2);
        assert_eq!(
            got,
            vec![(1, "{\"a\":\"x,]}\"}\n{\"b\":[1,2]}\n".to_string()), (3, "{\"c\":3}\n".to_string())]
        );
    }

    #[test]
    fn lines_and_documents() {
        let got = collect("{\"a\":1}\n\n{\"a\":2}\n{\"a\":3}\n", 2);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].0, 3);
        let doc = collect("{\n  \"events\": [\n {\"a\": 1}\n ]\n}\n", 2);
        assert_eq!(doc.len(), 1);
        assert!(doc[0].1.contains("\"events\""));
    }
}
