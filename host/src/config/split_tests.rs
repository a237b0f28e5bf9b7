//! The split parse must give exactly what the whole-file parse gives —
//! values, spans and errors — and must actually split the files it can.

use super::*;

/// The split parse with every section parsed, as a walk of the policies does.
fn parse_all(text: &str) -> Result<ConfigFile, toml::de::Error> {
    let Split { mut file, sections } = parse(text)?;
    for range in &sections {
        match policy_at(text, range) {
            Ok(p) => file.policies.push(p),
            // What a walk does with a section's error: the whole file's.
            Err(_) => return toml::from_str(text),
        }
    }
    Ok(file)
}

/// Both parses, compared through `Debug` (which shows every span).
fn same_as_whole(text: &str) -> String {
    let whole = toml::from_str::<ConfigFile>(text);
    let split = parse_all(text);
    match (&whole, &split) {
        (Ok(w), Ok(s)) => {
            assert_eq!(format!("{w:?}"), format!("{s:?}"), "values or spans differ for:\n{text}")
        }
        (Err(w), Err(s)) => {
            assert_eq!(w.message(), s.message(), "messages differ for:\n{text}");
            assert_eq!(w.span(), s.span(), "error spans differ for:\n{text}");
        }
        _ => panic!("one parse failed and the other did not:\nwhole: {whole:?}\nsplit: {split:?}\n{text}"),
    }
    match split {
        Ok(f) => format!("{} policies", f.policies.len()),
        Err(e) => e.message().to_string(),
    }
}

/// Whether the split path (not the fallback) parses `text`.
fn splits(text: &str) -> bool {
    parse(text).is_ok_and(|s| !s.sections.is_empty())
}

const TENANT: &str = "[tenant]\nemulator = {}\nowner = \"t\"\n\n";

#[test]
fn the_example_configs_split_and_parse_as_the_whole_file_does() {
    for text in [
        include_str!("../../../examples/contoso/mtdhost.toml"),
        include_str!("../../../examples/evaluate/mtdhost.toml"),
    ] {
        same_as_whole(text);
    }
    assert!(splits(include_str!("../../../examples/contoso/mtdhost.toml")));
}

#[test]
fn sub_tables_strings_arrays_and_comments_that_look_like_headers_stay_in_their_policy() {
    let text = format!(
        "{TENANT}[plugins.lookout]\nsource = \"builtin:lookout\"\n\n\
         # [[policy]] in a comment\n\
         [[policy]]\nname = \"R&D 'North' \u{e9}\u{1F512}\"\nplatforms = [\"ios\",\n  \"android\"]\n\
         description = \"\"\"\n[[policy]]\nname = \"fake\"\n\"\"\"\n\
         max-threat-level = \"low\"\n\
         [policy.settings]\nnested = [\n[1, 2],\n[3]\n]\ninline = {{ a = [\"[x]\"], b = '[[policy]]' }}\n\
         [policy.platform-settings.ios]\nosMinimumVersion = \"17.0\"\n\
         [[policy.actions]]\ntype = \"block\"\n\
         [[policy.actions]]\ntype = \"notification\"\ngrace-period-hours = 24\ntemplate = \"T\"\n\n\
           [[ \"policy\" ]] # indented, quoted\nname = 'second'\nplatforms = [\"windows\"]\n\
         [policy.assignments]\ninclude = [\"G & 'H'\", {{ group = \"F\", filter = \"x\" }}]\nexclude = [\"E\"]\n\
         [plugins.other]\nsource = \"builtin:lookout\"\n\
         [[policy]]\nname = \"third\"\nplatforms = [\"macos\"]\n\
         [[conditional-access]]\nname = \"ca\"\napps = [\"All\"]\ngrant = [\"compliant-device\"]\ninclude = [\"G\"]\n"
    );
    assert_eq!(same_as_whole(&text), "3 policies");
    assert!(splits(&text));
    let crlf = text.replace('\n', "\r\n");
    assert_eq!(same_as_whole(&crlf), "3 policies");
    assert!(splits(&crlf));
}

#[test]
fn errors_are_the_whole_files_wherever_they_are() {
    let policy = |n: usize| format!("[[policy]]\nname = \"p{n}\"\nplatforms = [\"ios\"]\n");
    let many: String = (0..5).map(policy).collect();
    for broken in [
        // An unknown key in the fourth policy.
        format!("{TENANT}{many}[[policy]]\nname = \"x\"\nplatforms = [\"ios\"]\nplatfrom = 1\n"),
        // A bad value in a sub-table.
        format!("{TENANT}{many}[[policy.actions]]\ntype = \"explode\"\n"),
        // A duplicate key in a policy.
        format!("{TENANT}{many}[[policy]]\nname = \"a\"\nname = \"b\"\n"),
        // An error outside the policies.
        format!("{TENANT}tennant = 1\n{many}"),
        // Broken TOML: an unclosed array across a header.
        format!("{TENANT}{many}[[policy]]\nname = \"a\"\nplatforms = [\"ios\",\n[tenant]\n"),
        // `[policy]` as a plain table.
        format!("{TENANT}[policy]\nname = \"a\"\n"),
        // A policy array written inline, then more as tables.
        format!("policy = [{{ name = \"a\", platforms = [\"ios\"] }}]\n{TENANT}{many}"),
        // An empty one, and a dotted root key, likewise.
        format!("policy = []\n{TENANT}{many}"),
        format!("policy.name = \"a\"\n{TENANT}{many}"),
        // A missing field.
        format!("{TENANT}{many}[[policy]]\nplatforms = [\"ios\"]\n"),
    ] {
        let message = same_as_whole(&broken);
        assert!(!message.ends_with("policies"), "{broken} parsed: {message}");
    }
}

#[test]
fn legal_shapes_the_split_is_not_sure_of_fall_back_to_the_whole_file() {
    // A policy's sub-table after another table, an escaped header key.
    for text in [
        format!("[[policy]]\nname = \"a\"\nplatforms = [\"ios\"]\n{TENANT}[policy.settings]\nx = 1\n"),
        format!("{TENANT}[[\"pol\\u0069cy\"]]\nname = \"a\"\nplatforms = [\"ios\"]\n"),
    ] {
        assert_eq!(same_as_whole(&text), "1 policies");
        assert!(!splits(&text), "{text}");
    }
}

#[test]
fn the_rest_keeps_every_other_table_at_its_offsets() {
    let text =
        format!("{TENANT}[[policy]]\nname = \"a\"\nplatforms = [\"ios\"]\n[plugins.x]\nsource = \"s\"\n");
    let rest = without_policies(&text);
    assert_eq!(rest.len(), text.len(), "a table after the policies keeps the whole length");
    let table: toml::Table = toml::from_str(&rest).unwrap();
    assert!(table.contains_key("tenant") && table.contains_key("plugins") && !table.contains_key("policy"));
    let at = text.find("[plugins.x]").unwrap();
    assert_eq!(&rest[at..at + 11], "[plugins.x]", "offsets are the file's");
    // Policies last: nothing of them is kept.
    let last = format!("{TENANT}[[policy]]\nname = \"a\"\nplatforms = [\"ios\"]\n");
    assert_eq!(without_policies(&last), TENANT);
}
