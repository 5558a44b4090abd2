//! Property-style checks: no input makes the parsers panic, and every
//! accepted query re-parses from its canonical rendering to the same text.
//! Uses a tiny xorshift generator so runs are deterministic and dependency-free.

use super::*;

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }
}

const SEEDS: &[&str] = &[
    "\"name='*testOne123*'\"",
    "\"instance_id EQ ^my-server^\"",
    "\"name EQ ^pipe^;ci_server EQ {id EQ ^1001^}\"",
    "\"id EQ 1001\"",
    "id IN 1,2,3",
    "id IN ^1^,^2^",
    "\"test EQ {package EQ ^x^}\"",
    "ref={id=5}",
    "ref={null}",
    "ref EQ null",
    "!executor EQ null",
    "(name EQ ^a^||name EQ ^b^);status EQ {id EQ ^list_node.run_status.passed^}",
    "creation_time BTW ^2026-01-01T00:00:00Z^...^2026-12-31T00:00:00Z^",
    "started GT ^2026-01-01T00:00:00Z^",
    "duration GE 10",
    "manual EQ true",
    "name EQ 'It\\'s'",
    "name EQ ^a\\^b^",
    "name EQ ^a b  c^;x EQ ^^;d LT -5;e LE 1.25",
];

/// Checks the invariants for one input; returns whether it parsed.
fn check(input: &str) -> bool {
    let len = input.chars().count();
    let fields = parse_fields(input);
    let order = parse_order_by(input);
    for e in [fields.err(), order.err()].into_iter().flatten() {
        assert!(e.position <= len, "{input:?}: {e}");
    }
    match parse_query(input) {
        Ok(expr) => {
            let rendered = expr.to_string();
            match parse_query(&rendered) {
                Ok(again) => assert_eq!(again.to_string(), rendered, "{input:?}"),
                Err(e) => panic!("{input:?} rendered as {rendered:?} which fails: {e}"),
            }
            true
        }
        Err(e) => {
            assert!(e.position <= len, "{input:?}: {e}");
            assert!(!e.message.is_empty());
            false
        }
    }
}

#[test]
fn seeds_parse() {
    for seed in SEEDS {
        assert!(check(seed), "{seed}");
    }
}

#[test]
fn truncations_never_panic() {
    for seed in SEEDS {
        let chars: Vec<char> = seed.chars().collect();
        for cut in 0..=chars.len() {
            let prefix: String = chars[..cut].iter().collect();
            let suffix: String = chars[cut..].iter().collect();
            check(&prefix);
            check(&suffix);
        }
    }
}

#[test]
fn mutations_never_panic() {
    const ALPHABET: &[char] = &[
        '^', '\'', '"', '\\', '{', '}', '(', ')', '!', ';', '|', ',', '.', '=', '-', '+', '*', ' ',
        'E', 'Q', 'I', 'N', 'B', 'T', 'W', 'n', 'u', 'l', '0', '9', 'é', '\0', '\n',
    ];
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut parsed = 0;
    for round in 0..4000 {
        let seed = SEEDS[round % SEEDS.len()];
        let mut chars: Vec<char> = seed.chars().collect();
        for _ in 0..=rng.below(4) {
            let at = rng.below(chars.len() + 1);
            let c = ALPHABET[rng.below(ALPHABET.len())];
            match rng.below(3) {
                0 => chars.insert(at, c),
                1 if at < chars.len() => {
                    chars.remove(at);
                }
                _ if at < chars.len() => chars[at] = c,
                _ => chars.push(c),
            }
        }
        if check(&chars.iter().collect::<String>()) {
            parsed += 1;
        }
    }
    // Sanity: the mutations are not all fatal, so both paths get exercised.
    assert!(parsed > 100, "only {parsed} mutations parsed");
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    for _ in 0..3000 {
        let len = rng.below(40);
        let bytes: Vec<u8> = (0..len).map(|_| (rng.next() & 0xFF) as u8).collect();
        check(&String::from_utf8_lossy(&bytes));
        // Also a printable-ASCII flavour, which reaches deeper into the grammar.
        let ascii: String = (0..len)
            .map(|_| char::from(b' ' + (rng.next() % 95) as u8))
            .collect();
        check(&ascii);
    }
}
