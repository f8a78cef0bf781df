//! The little markup of author texts, applied to already-escaped HTML:
//! blank lines separate paragraphs, lines starting with `- ` make a list,
//! `**text**` is bold. Nothing else, so nothing an author writes can
//! become a script.

/// Turns escaped text into paragraphs and lists.
pub fn to_html(escaped: &str) -> String {
    let mut out = String::new();
    for block in escaped.split("\n\n").map(str::trim).filter(|b| !b.is_empty()) {
        let lines: Vec<&str> = block.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        if lines.iter().all(|l| l.starts_with("- ")) {
            out.push_str("<ul>");
            for l in lines {
                out.push_str("<li>");
                out.push_str(&bold(&l[2..]));
                out.push_str("</li>");
            }
            out.push_str("</ul>");
        } else {
            out.push_str("<p>");
            out.push_str(&lines.iter().map(|l| bold(l)).collect::<Vec<_>>().join("<br>"));
            out.push_str("</p>");
        }
    }
    out
}

/// `**x**` to `<strong>x</strong>`, only when the stars pair up.
fn bold(line: &str) -> String {
    let parts: Vec<&str> = line.split("**").collect();
    if parts.len() < 3 || parts.len().is_multiple_of(2) {
        return line.to_owned();
    }
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i % 2 == 1 {
            out.push_str("<strong>");
            out.push_str(part);
            out.push_str("</strong>");
        } else {
            out.push_str(part);
        }
    }
    out
}

/// A one-line text, without paragraphs: bold only.
pub fn inline(escaped: &str) -> String {
    bold(escaped.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_lists_and_bold() {
        assert_eq!(
            to_html("Bonjour **Marie**.\nSuite.\n\n- un\n- deux\n"),
            "<p>Bonjour <strong>Marie</strong>.<br>Suite.</p><ul><li>un</li><li>deux</li></ul>"
        );
        assert_eq!(to_html("a ** b"), "<p>a ** b</p>");
    }
}
