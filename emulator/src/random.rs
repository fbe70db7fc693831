//! Random numbers from ring's system generator: ids, signing keys and fault dice.

use ring::rand::{SecureRandom, SystemRandom};

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

pub fn bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // The OS generator failing is unrecoverable and happens only on broken systems.
    SystemRandom::new()
        .fill(&mut out)
        .expect("the system random number generator failed");
    out
}

/// A uniform number in [0, 1).
pub fn unit() -> f64 {
    (u64::from_le_bytes(bytes::<8>()) >> 11) as f64 / (1u64 << 53) as f64
}

/// `len` random base62 characters, without modulo bias.
pub fn base62(len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for byte in bytes::<32>() {
            // 248 = 4 * 62: reject the top values so every character is equally likely.
            if byte < 248 && out.len() < len {
                out.push(BASE62[usize::from(byte % 62)] as char);
            }
        }
    }
    out
}

pub fn is_base62(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A fresh random id: `prefix` + 22 base62 characters (the shape of every Auth0 profile id
/// recorded: `cop_`, `uap_`, `ssp_`).
pub fn prefixed_id(prefix: &str) -> String {
    format!("{prefix}{}", base62(22))
}

/// A new id from `new` that `taken` does not hold (drawn again on the unlikely clash).
pub fn fresh_id(new: fn() -> String, taken: impl Fn(&str) -> bool) -> String {
    loop {
        let candidate = new();
        if !taken(&candidate) {
            return candidate;
        }
    }
}

/// Whether `id` is `prefix` + 22 base62 characters.
pub fn is_prefixed_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == 22 && is_base62(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixed_ids_have_the_recorded_shape() {
        let id = prefixed_id("uap_");
        assert!(is_prefixed_id(&id, "uap_"), "{id}");
        assert!(!is_prefixed_id(&id, "ssp_"));
        assert!(is_prefixed_id("uap_1css47cCzXvXLC4pJ8KBaa", "uap_"));
        for bad in [
            "uap_1css47cCzXvXLC4pJ8KBa",
            "uap_1css47cCzXvXLC4pJ8KBaaa",
            "uap_1css47cCzXvXLC4pJ8KBa-",
        ] {
            assert!(!is_prefixed_id(bad, "uap_"), "{bad}");
        }
    }
}
