//! SHA-1 and SHA-256 that can resume from an intermediate chaining value (FIPS 180-4 §6.1, §6.2).
//!
//! CPS3 PSO HASH (CPS3.md §6.4) receives the state the host reached after hashing every full
//! 64-byte block but the last, with the number of bits hashed so far, and finishes the hash on the
//! card. The `sha1`/`sha2` crates cannot start from a given state, so the compression functions are
//! written here (and tested against those crates).

/// Hash algorithms the CPS3 card finishes itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlg {
    Sha1,
    Sha256,
}

impl HashAlg {
    /// Length of the chaining value (and of the digest) in bytes.
    pub fn state_len(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha256 => 32,
        }
    }

    /// Initial hash value H(0), big-endian bytes.
    pub fn initial_state(self) -> Vec<u8> {
        match self {
            HashAlg::Sha1 => words_to_bytes(&SHA1_H0),
            HashAlg::Sha256 => words_to_bytes(&SHA256_H0),
        }
    }

    /// Finishes the hash of a message whose first `bits_done` bits (a multiple of 512) gave the
    /// chaining value `state`, and whose remaining bytes are `tail`. `None` if `state` has the
    /// wrong length or `bits_done` is not a multiple of 512.
    pub fn finish(self, state: &[u8], bits_done: u64, tail: &[u8]) -> Option<Vec<u8>> {
        if state.len() != self.state_len() || bits_done % 512 != 0 {
            return None;
        }
        let mut h: Vec<u32> = state
            .chunks(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let total_bits = bits_done.checked_add((tail.len() as u64).checked_mul(8)?)?;
        let mut msg = tail.to_vec();
        msg.push(0x80);
        while msg.len() % 64 != 56 {
            msg.push(0);
        }
        msg.extend_from_slice(&total_bits.to_be_bytes());
        for block in msg.chunks(64) {
            match self {
                HashAlg::Sha1 => sha1_compress(&mut h, block),
                HashAlg::Sha256 => sha256_compress(&mut h, block),
            }
        }
        Some(words_to_bytes(&h))
    }

    /// Whole-message hash (used by tests and by the host side of test transcripts).
    pub fn digest(self, msg: &[u8]) -> Vec<u8> {
        let full = msg.len() / 64 * 64;
        let state = self.state_after(&msg[..full]);
        self.finish(&state, full as u64 * 8, &msg[full..])
            .unwrap_or_default()
    }

    /// Chaining value after hashing `blocks` (length a multiple of 64) from H(0).
    pub fn state_after(self, blocks: &[u8]) -> Vec<u8> {
        let mut h: Vec<u32> = match self {
            HashAlg::Sha1 => SHA1_H0.to_vec(),
            HashAlg::Sha256 => SHA256_H0.to_vec(),
        };
        for block in blocks.chunks_exact(64) {
            match self {
                HashAlg::Sha1 => sha1_compress(&mut h, block),
                HashAlg::Sha256 => sha256_compress(&mut h, block),
            }
        }
        words_to_bytes(&h)
    }
}

fn words_to_bytes(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_be_bytes()).collect()
}

const SHA1_H0: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];

fn sha1_compress(h: &mut [u32], block: &[u8]) {
    let mut w = [0u32; 80];
    for (i, c) in block.chunks(4).enumerate() {
        w[i] = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
    }
    for t in 16..80 {
        w[t] = (w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]).rotate_left(1);
    }
    let (mut a, mut b, mut c, mut d, mut e) = (h[0], h[1], h[2], h[3], h[4]);
    for (t, wt) in w.iter().enumerate() {
        let (f, k) = match t {
            0..=19 => ((b & c) | (!b & d), 0x5A827999),
            20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
            40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
            _ => (b ^ c ^ d, 0xCA62C1D6),
        };
        let tmp = a
            .rotate_left(5)
            .wrapping_add(f)
            .wrapping_add(e)
            .wrapping_add(k)
            .wrapping_add(*wt);
        e = d;
        d = c;
        c = b.rotate_left(30);
        b = a;
        a = tmp;
    }
    for (hi, v) in h.iter_mut().zip([a, b, c, d, e]) {
        *hi = hi.wrapping_add(v);
    }
}

const SHA256_H0: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

const SHA256_K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

fn sha256_compress(h: &mut [u32], block: &[u8]) {
    let mut w = [0u32; 64];
    for (i, c) in block.chunks(4).enumerate() {
        w[i] = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
    }
    for t in 16..64 {
        let s0 = w[t - 15].rotate_right(7) ^ w[t - 15].rotate_right(18) ^ (w[t - 15] >> 3);
        let s1 = w[t - 2].rotate_right(17) ^ w[t - 2].rotate_right(19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16]
            .wrapping_add(s0)
            .wrapping_add(w[t - 7])
            .wrapping_add(s1);
    }
    let mut v = [h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]];
    for t in 0..64 {
        let [a, b, c, d, e, f, g, hh] = v;
        let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
        let ch = (e & f) ^ (!e & g);
        let t1 = hh
            .wrapping_add(s1)
            .wrapping_add(ch)
            .wrapping_add(SHA256_K[t])
            .wrapping_add(w[t]);
        let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
        let maj = (a & b) ^ (a & c) ^ (b & c);
        let t2 = s0.wrapping_add(maj);
        v = [t1.wrapping_add(t2), a, b, c, d.wrapping_add(t1), e, f, g];
    }
    for (hi, x) in h.iter_mut().zip(v) {
        *hi = hi.wrapping_add(x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha1::Digest as _;

    fn reference(alg: HashAlg, msg: &[u8]) -> Vec<u8> {
        match alg {
            HashAlg::Sha1 => sha1::Sha1::digest(msg).to_vec(),
            HashAlg::Sha256 => sha2::Sha256::digest(msg).to_vec(),
        }
    }

    #[test]
    fn whole_messages_match_the_sha_crates() {
        let msg: Vec<u8> = (0..5000u32).map(|i| (i * 7 + 3) as u8).collect();
        for alg in [HashAlg::Sha1, HashAlg::Sha256] {
            for len in [0usize, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 5000] {
                assert_eq!(
                    alg.digest(&msg[..len]),
                    reference(alg, &msg[..len]),
                    "{alg:?} {len}"
                );
            }
        }
    }

    #[test]
    fn resuming_from_an_intermediate_state_matches() {
        // The host side of CPS3.md §6.4: every full block but the last 1..64 bytes.
        let msg: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        for alg in [HashAlg::Sha1, HashAlg::Sha256] {
            for len in [65usize, 128, 129, 5000] {
                let done = (len - 1) / 64 * 64;
                let state = alg.state_after(&msg[..done]);
                let got = alg
                    .finish(&state, done as u64 * 8, &msg[done..len])
                    .unwrap();
                assert_eq!(got, reference(alg, &msg[..len]), "{alg:?} {len}");
            }
        }
    }

    #[test]
    fn bad_state_or_count_is_refused() {
        assert!(HashAlg::Sha1.finish(&[0; 32], 0, b"x").is_none());
        assert!(HashAlg::Sha256.finish(&[0; 32], 8, b"x").is_none());
        assert_eq!(HashAlg::Sha1.initial_state().len(), 20);
    }
}
