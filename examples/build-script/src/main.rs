//! Prints the greetings that `build.rs` generated at build time.

// `GREETINGS`, written by build.rs from the recorded answer in `answers/`.
include!(concat!(env!("OUT_DIR"), "/greetings.rs"));

fn main() {
    println!("{} greetings:", GREETINGS.len());
    for (language, text) in GREETINGS {
        println!("  {language:>10}: {text}");
    }
}
