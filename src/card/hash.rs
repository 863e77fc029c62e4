//! SHA-1 and SHA-256 (FIPS 180-4) with their chaining value exposed: the CPS3 signature key
//! makes the card finish the hash (PSO HASH, CPS3.md §6.4), so the host hashes every full
//! 64-byte block but the last 1..=64 bytes and sends the intermediate state, the number of bits
//! hashed so far, and the remaining bytes. Library hashers do not expose that state; this small
//! implementation does (it is tested against the `sha1`/`sha2` crates).

/// Hash functions the CPS cards support (no SHA-384/512: README §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlg {
    Sha1,
    Sha256,
}

impl HashAlg {
    /// Digest length in bytes (20 / 32).
    pub fn digest_len(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha256 => 32,
        }
    }

    /// The hash of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        let mut h = MessageHasher::new(self);
        h.update(data);
        h.finish()
    }

    fn initial_state(self) -> [u32; 8] {
        match self {
            HashAlg::Sha1 => [
                0x6745_2301,
                0xEFCD_AB89,
                0x98BA_DCFE,
                0x1032_5476,
                0xC3D2_E1F0,
                0,
                0,
                0,
            ],
            HashAlg::Sha256 => [
                0x6a09_e667,
                0xbb67_ae85,
                0x3c6e_f372,
                0xa54f_f53a,
                0x510e_527f,
                0x9b05_688c,
                0x1f83_d9ab,
                0x5be0_cd19,
            ],
        }
    }

    fn state_words(self) -> usize {
        self.digest_len() / 4
    }
}

impl From<HashAlg> for crate::crypto::HashAlg {
    fn from(alg: HashAlg) -> Self {
        match alg {
            HashAlg::Sha1 => crate::crypto::HashAlg::Sha1,
            HashAlg::Sha256 => crate::crypto::HashAlg::Sha256,
        }
    }
}

impl TryFrom<crate::crypto::HashAlg> for HashAlg {
    /// The hash the cards cannot do.
    type Error = crate::crypto::HashAlg;

    fn try_from(alg: crate::crypto::HashAlg) -> Result<Self, Self::Error> {
        match alg {
            crate::crypto::HashAlg::Sha1 => Ok(HashAlg::Sha1),
            crate::crypto::HashAlg::Sha256 => Ok(HashAlg::Sha256),
            other => Err(other),
        }
    }
}

const BLOCK: usize = 64;

/// What the card needs to finish a hash (CPS3.md §6.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardHashInput {
    pub alg: HashAlg,
    /// Chaining value after `bits_hashed / 512` full blocks, big-endian (20 or 32 bytes);
    /// empty when no block was hashed (the whole message fits the tail).
    pub state: Vec<u8>,
    /// Bits hashed by the host (a multiple of 512).
    pub bits_hashed: u64,
    /// The last 1..=64 bytes of the message, which the card hashes and pads.
    pub tail: Vec<u8>,
}

/// An incremental SHA-1 / SHA-256 that keeps the last 1..=64 bytes unhashed until asked, so
/// that the message can either be finished here or handed to the card.
#[derive(Clone)]
pub struct MessageHasher {
    alg: HashAlg,
    state: [u32; 8],
    blocks: u64,
    /// 0..=64 bytes not compressed yet; a full block is compressed only when more data comes.
    pending: Vec<u8>,
}

impl std::fmt::Debug for MessageHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "MessageHasher({:?}, {} bytes)",
            self.alg,
            self.message_len()
        )
    }
}

impl MessageHasher {
    pub fn new(alg: HashAlg) -> Self {
        MessageHasher {
            alg,
            state: alg.initial_state(),
            blocks: 0,
            pending: Vec::with_capacity(BLOCK),
        }
    }

    pub fn alg(&self) -> HashAlg {
        self.alg
    }

    /// Message bytes fed so far.
    pub fn message_len(&self) -> u64 {
        self.blocks * BLOCK as u64 + self.pending.len() as u64
    }

    pub fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.pending.len() == BLOCK {
                let mut block = [0u8; BLOCK];
                block.copy_from_slice(&self.pending);
                self.compress(&block);
                self.blocks += 1;
                self.pending.clear();
            }
            let take = (BLOCK - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
    }

    /// The split for the card: state after every full block but the last 1..=64 bytes. `None`
    /// for an empty message (the card cannot finish a hash of nothing: the vendor module sent
    /// 64 bytes of garbage there, CPS3.md §6.4; we refuse instead).
    pub fn card_input(&self) -> Option<CardHashInput> {
        if self.pending.is_empty() {
            return None;
        }
        let state = if self.blocks == 0 {
            Vec::new()
        } else {
            self.state_bytes()
        };
        Some(CardHashInput {
            alg: self.alg,
            state,
            bits_hashed: self.blocks * 512,
            tail: self.pending.clone(),
        })
    }

    /// Finishes the hash here (padding with the 64-bit length) and returns the digest.
    pub fn finish(mut self) -> Vec<u8> {
        let total_bits = self.message_len().wrapping_mul(8);
        let mut tail = std::mem::take(&mut self.pending);
        tail.push(0x80);
        while tail.len() % BLOCK != BLOCK - 8 {
            tail.push(0);
        }
        tail.extend_from_slice(&total_bits.to_be_bytes());
        for chunk in tail.chunks_exact(BLOCK) {
            let mut block = [0u8; BLOCK];
            block.copy_from_slice(chunk);
            self.compress(&block);
        }
        self.state_bytes()
    }

    fn state_bytes(&self) -> Vec<u8> {
        self.state[..self.alg.state_words()]
            .iter()
            .flat_map(|w| w.to_be_bytes())
            .collect()
    }

    fn compress(&mut self, block: &[u8; BLOCK]) {
        match self.alg {
            HashAlg::Sha1 => sha1_compress(&mut self.state, block),
            HashAlg::Sha256 => sha256_compress(&mut self.state, block),
        }
    }
}

fn sha1_compress(h: &mut [u32; 8], block: &[u8; BLOCK]) {
    let mut w = [0u32; 80];
    for (i, c) in block.chunks_exact(4).enumerate() {
        w[i] = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
    }
    for i in 16..80 {
        w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
    }
    let (mut a, mut b, mut c, mut d, mut e) = (h[0], h[1], h[2], h[3], h[4]);
    for (i, wi) in w.iter().enumerate() {
        let (f, k) = match i {
            0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
            20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
            40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
            _ => (b ^ c ^ d, 0xCA62_C1D6),
        };
        let t = a
            .rotate_left(5)
            .wrapping_add(f)
            .wrapping_add(e)
            .wrapping_add(k)
            .wrapping_add(*wi);
        e = d;
        d = c;
        c = b.rotate_left(30);
        b = a;
        a = t;
    }
    h[0] = h[0].wrapping_add(a);
    h[1] = h[1].wrapping_add(b);
    h[2] = h[2].wrapping_add(c);
    h[3] = h[3].wrapping_add(d);
    h[4] = h[4].wrapping_add(e);
}

const K256: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

fn sha256_compress(h: &mut [u32; 8], block: &[u8; BLOCK]) {
    let mut w = [0u32; 64];
    for (i, c) in block.chunks_exact(4).enumerate() {
        w[i] = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
    }
    for i in 16..64 {
        let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
        let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16]
            .wrapping_add(s0)
            .wrapping_add(w[i - 7])
            .wrapping_add(s1);
    }
    let mut v = *h;
    for i in 0..64 {
        let [a, b, c, d, e, f, g, hh] = v;
        let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
        let ch = (e & f) ^ (!e & g);
        let t1 = hh
            .wrapping_add(s1)
            .wrapping_add(ch)
            .wrapping_add(K256[i])
            .wrapping_add(w[i]);
        let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
        let maj = (a & b) ^ (a & c) ^ (b & c);
        let t2 = s0.wrapping_add(maj);
        v = [t1.wrapping_add(t2), a, b, c, d.wrapping_add(t1), e, f, g];
    }
    for (x, y) in h.iter_mut().zip(v) {
        *x = x.wrapping_add(y);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha1::Digest;

    fn reference(alg: HashAlg, data: &[u8]) -> Vec<u8> {
        match alg {
            HashAlg::Sha1 => sha1::Sha1::digest(data).to_vec(),
            HashAlg::Sha256 => sha2::Sha256::digest(data).to_vec(),
        }
    }

    /// Finishes a hash from a card split, as the card does (resume from the state).
    fn finish_like_the_card(input: &CardHashInput) -> Vec<u8> {
        let mut h = MessageHasher::new(input.alg);
        if !input.state.is_empty() {
            for (i, c) in input.state.chunks_exact(4).enumerate() {
                h.state[i] = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
            }
            h.blocks = input.bits_hashed / 512;
        }
        h.update(&input.tail);
        h.finish()
    }

    #[test]
    fn matches_the_sha_crates_at_every_length_around_block_edges() {
        let data: Vec<u8> = (0..1100u32).map(|i| (i * 7 + 3) as u8).collect();
        for alg in [HashAlg::Sha1, HashAlg::Sha256] {
            for len in (0..=200).chain([447, 448, 511, 512, 513, 1000, 1100]) {
                let msg = &data[..len];
                assert_eq!(alg.digest(msg), reference(alg, msg), "{alg:?} {len}");
                // fed in odd pieces
                let mut h = MessageHasher::new(alg);
                for piece in msg.chunks(37) {
                    h.update(piece);
                }
                if len > 0 {
                    let split = h.card_input().unwrap();
                    assert!((1..=64).contains(&split.tail.len()));
                    assert_eq!(split.bits_hashed % 512, 0);
                    assert_eq!(split.bits_hashed / 8 + split.tail.len() as u64, len as u64);
                    assert_eq!(finish_like_the_card(&split), reference(alg, msg));
                } else {
                    assert!(h.card_input().is_none());
                }
                assert_eq!(h.finish(), reference(alg, msg), "{alg:?} {len} pieces");
            }
        }
    }

    #[test]
    fn sha256_intermediate_state_matches_the_sha2_compression() {
        let msg: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let mut h = MessageHasher::new(HashAlg::Sha256);
        h.update(&msg);
        let split = h.card_input().unwrap();
        let mut state = HashAlg::Sha256.initial_state();
        let blocks: Vec<_> = msg[..4992]
            .chunks_exact(64)
            .map(|c| *sha2::digest::generic_array::GenericArray::from_slice(c))
            .collect();
        sha2::compress256(&mut state, &blocks);
        let expected: Vec<u8> = state.iter().flat_map(|w| w.to_be_bytes()).collect();
        assert_eq!(split.state, expected);
    }

    #[test]
    fn sha1_intermediate_state_matches_the_sha1_compression() {
        let msg: Vec<u8> = (0..300u32).map(|i| (i * 13) as u8).collect();
        let mut h = MessageHasher::new(HashAlg::Sha1);
        h.update(&msg);
        let split = h.card_input().unwrap();
        assert_eq!(split.bits_hashed, 256 * 8);
        let mut state = [
            0x6745_2301,
            0xEFCD_AB89,
            0x98BA_DCFE,
            0x1032_5476,
            0xC3D2_E1F0,
        ];
        let blocks: Vec<_> = msg[..256]
            .chunks_exact(64)
            .map(|c| *sha1::digest::generic_array::GenericArray::from_slice(c))
            .collect();
        sha1::compress(&mut state, &blocks);
        let expected: Vec<u8> = state.iter().flat_map(|w| w.to_be_bytes()).collect();
        assert_eq!(split.state, expected);
    }

    #[test]
    fn split_rules_of_the_profile() {
        // ≤ 64 bytes: no state, the whole message is the tail (64 → n = 64, never 0).
        for len in [1usize, 20, 63, 64] {
            let mut h = MessageHasher::new(HashAlg::Sha256);
            h.update(&vec![0x78; len]);
            let s = h.card_input().unwrap();
            assert!(s.state.is_empty());
            assert_eq!((s.bits_hashed, s.tail.len()), (0, len));
        }
        // 128 bytes → state after 64, bit count 0x200, n = 64.
        let mut h = MessageHasher::new(HashAlg::Sha1);
        h.update(&[1u8; 128]);
        let s = h.card_input().unwrap();
        assert_eq!(
            (s.state.len(), s.bits_hashed, s.tail.len()),
            (20, 0x200, 64)
        );
        // 5000 bytes SHA-256 → 78 blocks = 0x9C00 bits, 8-byte tail.
        let mut h = MessageHasher::new(HashAlg::Sha256);
        h.update(&[2u8; 5000]);
        let s = h.card_input().unwrap();
        assert_eq!(
            (s.state.len(), s.bits_hashed, s.tail.len()),
            (32, 0x9C00, 8)
        );
    }
}
