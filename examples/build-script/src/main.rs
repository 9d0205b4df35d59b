//! Prints the greetings that `build.rs` generated at build time.

// `GREETINGS` and `SOURCE`, written by build.rs.
include!(concat!(env!("OUT_DIR"), "/greetings.rs"));

fn main() {
    println!("{} greetings (from {SOURCE}):", GREETINGS.len());
    for (language, text) in GREETINGS {
        println!("  {language:>10}: {text}");
    }
}
