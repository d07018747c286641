//! The command line of the benches that take no options but `--test` (and, for some, bare
//! thread counts): anything else is refused with one line and the usage, exit status 2, so a
//! mistyped option never runs the full bench as if it had not been given.

/// What the command line asked for.
pub struct Args {
    /// `--test`: small sizes, one repetition (what CI runs).
    pub test: bool,
    /// Bare whole numbers (thread counts), where the bench takes them; empty otherwise.
    pub counts: Vec<usize>,
}

/// Parses `std::env::args()`. Accepts `--test`, `--bench` (which `cargo bench` passes; ignored),
/// `--help` / `-h` (prints `usage`, exits 0) and, if `takes_counts`, whole numbers of at least 1.
/// Anything else prints one line and `usage` on stderr and exits with status 2.
pub fn parse(usage: &str, takes_counts: bool) -> Args {
    let mut args = Args {
        test: false,
        counts: Vec::new(),
    };
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--test" => args.test = true,
            "--bench" => {}
            "--help" | "-h" => {
                println!("{usage}");
                std::process::exit(0);
            }
            _ if takes_counts && arg.bytes().all(|b| b.is_ascii_digit()) => match arg.parse() {
                Ok(n) if n >= 1 => args.counts.push(n),
                _ => fail(
                    &format!("a thread count must be a whole number >= 1, got `{arg}`"),
                    usage,
                ),
            },
            _ if arg.starts_with('-') => fail(&format!("unknown option `{arg}`"), usage),
            _ => fail(&format!("unexpected argument `{arg}`"), usage),
        }
    }
    args
}

fn fail(message: &str, usage: &str) -> ! {
    eprintln!("error: {message}\n{usage}");
    std::process::exit(2)
}
