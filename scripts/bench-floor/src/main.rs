//! Prints one short line, a comment in every shell, so `eval "$(floor)"` and `floor | source`
//! are harmless.

fn main() {
    println!("# awsenv bench floor");
}
