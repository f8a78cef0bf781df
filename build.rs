//! Rebuilds the crate when the bundled scenarios or themes change, since
//! the binary embeds them.
fn main() {
    println!("cargo:rerun-if-changed=scenarios");
    println!("cargo:rerun-if-changed=themes");
}
