//! cps-tool: the card CLI for testers.
fn main() {}
