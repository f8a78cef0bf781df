//! The little markup of author texts, applied to already-escaped HTML:
//! blank lines separate paragraphs, lines starting with `- ` make a list,
//! `**text**` is bold. Nothing else, so nothing an author writes can
//! become a script.

/// Turns escaped text into paragraphs and lists, written straight into
/// one string (a step page renders two or three of these). Blocks are cut
/// at each `\n\n` and stars paired with byte searches: the splitting with
/// `str::split("\n\n")` and `matches("**")` it replaced cost more than the
/// rest of the text's render.
pub(crate) fn to_html(escaped: &str) -> String {
    let mut out = String::with_capacity(escaped.len() + 32);
    let mut rest = escaped;
    loop {
        let (block, next) = match memchr::memmem::find(rest.as_bytes(), b"\n\n") {
            Some(at) => (&rest[..at], Some(&rest[at + 2..])),
            None => (rest, None),
        };
        push_block(&mut out, block.trim());
        match next {
            Some(n) => rest = n,
            None => return out,
        }
    }
}

fn push_block(out: &mut String, block: &str) {
    if block.is_empty() {
        return;
    }
    let lines = || block.lines().map(str::trim).filter(|l| !l.is_empty());
    if lines().all(|l| l.starts_with("- ")) {
        out.push_str("<ul>");
        for l in lines() {
            out.push_str("<li>");
            push_bold(out, &l[2..]);
            out.push_str("</li>");
        }
        out.push_str("</ul>");
    } else {
        out.push_str("<p>");
        for (i, l) in lines().enumerate() {
            if i > 0 {
                out.push_str("<br>");
            }
            push_bold(out, l);
        }
        out.push_str("</p>");
    }
}

/// `**x**` to `<strong>x</strong>`, only when the stars pair up.
fn push_bold(out: &mut String, line: &str) {
    let pairs = stars(line).count();
    if pairs < 2 || pairs % 2 == 1 {
        out.push_str(line);
        return;
    }
    let mut from = 0;
    for (i, at) in stars(line).enumerate() {
        out.push_str(&line[from..at]);
        out.push_str(if i % 2 == 0 { "<strong>" } else { "</strong>" });
        from = at + 2;
    }
    out.push_str(&line[from..]);
}

/// Where each `**` of `line` starts, left to right, not overlapping (as
/// `str::matches` finds them).
fn stars(line: &str) -> impl Iterator<Item = usize> + '_ {
    let bytes = line.as_bytes();
    let mut from = 0;
    std::iter::from_fn(move || {
        while let Some(i) = memchr::memchr(b'*', &bytes[from..]) {
            let at = from + i;
            if bytes.get(at + 1) == Some(&b'*') {
                from = at + 2;
                return Some(at);
            }
            from = at + 1;
        }
        None
    })
}

/// A one-line text, without paragraphs: bold only.
pub(crate) fn inline(escaped: &str) -> String {
    let mut out = String::with_capacity(escaped.len());
    push_bold(&mut out, escaped.trim());
    out
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
        assert_eq!(to_html("**a** ** b"), "<p>**a** ** b</p>", "three pairs of stars: none is bold");
        assert_eq!(inline("  un **deux** trois **quatre**  "), "un <strong>deux</strong> trois <strong>quatre</strong>");
        assert_eq!(to_html("- **a**\n- b\n\nc\n\n\nd"), "<ul><li><strong>a</strong></li><li>b</li></ul><p>c</p><p>d</p>");
    }

    /// The markup as first written, with the standard library's splits:
    /// the byte searches must give the same HTML for any text.
    fn oracle(escaped: &str) -> String {
        let bold = |out: &mut String, line: &str| {
            let pairs = line.matches("**").count();
            if pairs < 2 || pairs % 2 == 1 {
                out.push_str(line);
                return;
            }
            for (i, part) in line.split("**").enumerate() {
                out.push_str(if i % 2 == 1 { "<strong>" } else { "" });
                out.push_str(part);
                out.push_str(if i % 2 == 1 { "</strong>" } else { "" });
            }
        };
        let mut out = String::new();
        for block in escaped.split("\n\n").map(str::trim).filter(|b| !b.is_empty()) {
            let lines: Vec<&str> = block.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            let list = lines.iter().all(|l| l.starts_with("- "));
            out.push_str(if list { "<ul>" } else { "<p>" });
            for (i, l) in lines.iter().enumerate() {
                match list {
                    true => {
                        out.push_str("<li>");
                        bold(&mut out, &l[2..]);
                        out.push_str("</li>");
                    }
                    false => {
                        out.push_str(if i > 0 { "<br>" } else { "" });
                        bold(&mut out, l);
                    }
                }
            }
            out.push_str(if list { "</ul>" } else { "</p>" });
        }
        out
    }

    #[test]
    fn the_byte_searches_write_what_the_splits_wrote() {
        // Every text of up to seven pieces drawn from these, and a few longer.
        let pieces = ["a", "*", "**", "\n", "\n\n", " ", "- ", "\r\n", "é"];
        let mut texts = vec![String::new()];
        for _ in 0..5 {
            let longer: Vec<String> = texts.iter().flat_map(|t| pieces.iter().map(move |p| format!("{t}{p}"))).collect();
            texts.extend(longer.into_iter().filter(|t| t.len() <= 12));
            texts.sort();
            texts.dedup();
        }
        texts.push("Les **montants** de 2025.\n\n- un **deux**\n- trois\n\n\n***x*** ** y\n\n  \n- \n".repeat(3));
        assert!(texts.len() > 10_000, "{}", texts.len());
        for t in &texts {
            assert_eq!(to_html(t), oracle(t), "{t:?}");
            let line = t.trim();
            if !line.is_empty() && !line.contains('\n') && !line.starts_with("- ") {
                assert_eq!(format!("<p>{}</p>", inline(t)), oracle(line), "{t:?}");
            }
        }
    }
}
