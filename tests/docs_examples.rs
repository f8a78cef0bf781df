//! The examples of the documentation are real: each complete scenario in
//! the docs loads without a diagnostic and passes its walkthroughs.

use miroir::files::FileSet;
use miroir::library::{self, Library};

/// The YAML code blocks of a markdown file, in order.
fn yaml_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```yaml") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn the_complete_example_of_the_format_reference_is_valid() {
    let doc = std::fs::read_to_string("docs/format.md").unwrap();
    let example = &yaml_blocks(&doc)[0];
    assert!(example.starts_with("title:"));
    let files = FileSet::from_memory("docs", &[("demo/exemple.yaml", example)]);
    let lib = Library::load(&files, &library::embedded_themes());
    assert!(lib.diagnostics.is_empty(), "{}", lib.render_diagnostics());
    assert_eq!(lib.walkthroughs_run, 2);
    assert_eq!(lib.walkthroughs_passed, 2);
}
