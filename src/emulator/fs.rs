//! The card's file tree (ISO 7816-4 §5.3): DFs with optional AIDs, transparent EFs with their
//! security conditions, and the ways to reach a file (by FID, by path, by DF name, by SFI).
//! What a SELECT answers (FCP `62` on CPS3, FCI `6F` on CPS4, nothing for DFs) is the profile's
//! business (`profile/`); this module only finds files and checks access.

/// Index of a node in [`Fs`].
pub type NodeId = usize;

/// The MF is always node 0.
pub const MF: NodeId = 0;

/// Security condition byte (SCB) of IAS-ECC (CPS3.md §3.1): `00` always, `FF` never, `1n` user
/// authentication in SE n. Anything else (`45` = secure messaging) is never met: no SM here.
pub type Scb = u8;
pub const ALWAYS: Scb = 0x00;
pub const NEVER: Scb = 0xFF;
pub const PIN: Scb = 0x12;

/// Access rules of an EF: the 6 SCBs of AM `7B` (DELETE, TERMINATE, ACTIVATE, DEACTIVATE,
/// UPDATE, READ), for the contact interface (`8C`) and the contactless one (`9C`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acl {
    pub contact: [Scb; 6],
    pub contactless: [Scb; 6],
}

impl Acl {
    /// Public read-only, not visible contactless.
    pub const PUBLIC: Acl = Acl {
        contact: [NEVER, NEVER, NEVER, NEVER, NEVER, ALWAYS],
        contactless: [NEVER; 6],
    };
    /// Public read-only on both interfaces.
    pub const PUBLIC_CL: Acl = Acl {
        contact: [NEVER, NEVER, NEVER, NEVER, NEVER, ALWAYS],
        contactless: [NEVER, NEVER, NEVER, NEVER, NEVER, ALWAYS],
    };
    /// Read after PIN (activities).
    pub const PIN_READ: Acl = Acl {
        contact: [NEVER, NEVER, NEVER, NEVER, NEVER, PIN],
        contactless: [NEVER; 6],
    };
    /// CPS_DATA: public read, update after PIN.
    pub const PIN_UPDATE: Acl = Acl {
        contact: [NEVER, NEVER, NEVER, NEVER, PIN, ALWAYS],
        contactless: [NEVER; 6],
    };

    fn scbs(&self, contactless: bool) -> &[Scb; 6] {
        if contactless {
            &self.contactless
        } else {
            &self.contact
        }
    }
    pub fn read(&self, contactless: bool) -> Scb {
        self.scbs(contactless)[5]
    }
    pub fn update(&self, contactless: bool) -> Scb {
        self.scbs(contactless)[4]
    }
}

/// Whether an SCB is met given the PIN state.
pub fn scb_met(scb: Scb, pin_verified: bool) -> bool {
    match scb {
        ALWAYS => true,
        0x10..=0x1F => pin_verified,
        _ => false,
    }
}

/// A transparent EF.
#[derive(Debug, Clone)]
pub struct Ef {
    pub data: Vec<u8>,
    pub sfi: Option<u8>,
    pub acl: Acl,
    /// The file is saved in the card image when updated (CPS_DATA).
    pub persistent: bool,
}

#[derive(Debug, Clone)]
pub enum Kind {
    Df { aid: Option<Vec<u8>> },
    Ef(Ef),
}

#[derive(Debug, Clone)]
pub struct Node {
    pub fid: u16,
    pub parent: Option<NodeId>,
    pub kind: Kind,
}

impl Node {
    pub fn is_df(&self) -> bool {
        matches!(self.kind, Kind::Df { .. })
    }
    pub fn ef(&self) -> Option<&Ef> {
        match &self.kind {
            Kind::Ef(ef) => Some(ef),
            Kind::Df { .. } => None,
        }
    }
}

/// A file tree rooted at the MF (`3F00`).
#[derive(Debug, Clone)]
pub struct Fs {
    nodes: Vec<Node>,
}

impl Fs {
    /// A tree with only the MF, named `root_aid` if given.
    pub fn new(root_aid: Option<Vec<u8>>) -> Fs {
        Fs {
            nodes: vec![Node {
                fid: 0x3F00,
                parent: None,
                kind: Kind::Df { aid: root_aid },
            }],
        }
    }

    /// Adds a DF under `parent` and returns it.
    pub fn add_df(&mut self, parent: NodeId, fid: u16, aid: Option<Vec<u8>>) -> NodeId {
        self.nodes.push(Node {
            fid,
            parent: Some(parent),
            kind: Kind::Df { aid },
        });
        self.nodes.len() - 1
    }

    /// Adds a transparent EF under `parent`.
    pub fn add_ef(&mut self, parent: NodeId, fid: u16, ef: Ef) -> NodeId {
        self.nodes.push(Node {
            fid,
            parent: Some(parent),
            kind: Kind::Ef(ef),
        });
        self.nodes.len() - 1
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// Detaches a node from the tree (it can no longer be found).
    pub fn remove(&mut self, id: NodeId) {
        if id != MF {
            if let Some(n) = self.nodes.get_mut(id) {
                n.parent = None;
            }
        }
    }

    pub fn ef_mut(&mut self, id: NodeId) -> Option<&mut Ef> {
        match &mut self.nodes.get_mut(id)?.kind {
            Kind::Ef(ef) => Some(ef),
            Kind::Df { .. } => None,
        }
    }

    /// Child of `df` with this FID.
    pub fn child(&self, df: NodeId, fid: u16) -> Option<NodeId> {
        self.nodes
            .iter()
            .position(|n| n.parent == Some(df) && n.fid == fid)
    }

    /// EF of `df` with this short file identifier.
    pub fn by_sfi(&self, df: NodeId, sfi: u8) -> Option<NodeId> {
        self.nodes.iter().position(|n| {
            n.parent == Some(df) && matches!(&n.kind, Kind::Ef(ef) if ef.sfi == Some(sfi))
        })
    }

    /// DF whose name (AID) is exactly `aid`.
    pub fn by_aid(&self, aid: &[u8]) -> Option<NodeId> {
        self.nodes
            .iter()
            .position(|n| matches!(&n.kind, Kind::Df { aid: Some(a) } if a == aid))
    }

    /// Follows `fids` from `start`, each one a child of the previous.
    pub fn walk(&self, start: NodeId, fids: &[u16]) -> Option<NodeId> {
        fids.iter().try_fold(start, |at, &fid| self.child(at, fid))
    }

    /// Path given as bytes: absolute when it starts with `3F00`, else relative to `current`
    /// (below it only). `None` for odd or empty paths and files not found.
    pub fn by_path(&self, current: NodeId, path: &[u8]) -> Option<NodeId> {
        let fids = fids(path)?;
        match fids.split_first() {
            Some((0x3F00, rest)) => self.walk(MF, rest),
            _ => self.walk(current, &fids),
        }
    }

    /// ISO 7816-4 SELECT by FID (`P1=00`): the MF, a child of the current DF, the current DF
    /// itself, its parent, or a sibling of the current DF (CPS3.md §6.1 [S]).
    pub fn by_fid(&self, current_df: NodeId, fid: u16) -> Option<NodeId> {
        if fid == 0x3F00 {
            return Some(MF);
        }
        if let Some(c) = self.child(current_df, fid) {
            return Some(c);
        }
        let cur = &self.nodes[current_df];
        if cur.fid == fid {
            return Some(current_df);
        }
        let parent = cur.parent?;
        if self.nodes[parent].fid == fid {
            return Some(parent);
        }
        self.child(parent, fid)
    }

    /// The DF an EF lives in (a DF is its own).
    pub fn df_of(&self, id: NodeId) -> NodeId {
        if self.nodes[id].is_df() {
            id
        } else {
            self.nodes[id].parent.unwrap_or(MF)
        }
    }
}

/// Splits a path into FIDs; `None` when empty or of odd length.
pub fn fids(path: &[u8]) -> Option<Vec<u16>> {
    if path.is_empty() || path.len() % 2 != 0 {
        return None;
    }
    Some(
        path.chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect(),
    )
}

/// Where the current DF and EF are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub df: NodeId,
    pub ef: Option<NodeId>,
}

impl Cursor {
    pub fn at_mf() -> Cursor {
        Cursor { df: MF, ef: None }
    }

    /// Makes `id` current: a DF becomes the current DF (no current EF), an EF the current EF
    /// with its parent as current DF.
    pub fn select(&mut self, fs: &Fs, id: NodeId) {
        if fs.node(id).is_df() {
            *self = Cursor { df: id, ef: None };
        } else {
            *self = Cursor {
                df: fs.df_of(id),
                ef: Some(id),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> (Fs, NodeId, NodeId, NodeId) {
        let mut fs = Fs::new(Some(vec![1, 2]));
        let ef = Ef {
            data: vec![1, 2, 3],
            sfi: Some(0x1C),
            acl: Acl::PUBLIC,
            persistent: false,
        };
        let sn = fs.add_ef(MF, 0xD003, ef.clone());
        let app = fs.add_df(MF, 0x0001, Some(vec![9, 9]));
        let odf = fs.add_ef(app, 0x5031, Ef { sfi: None, ..ef });
        (fs, sn, app, odf)
    }

    #[test]
    fn paths_fids_aids_and_sfis() {
        let (fs, sn, app, odf) = tree();
        assert_eq!(fs.by_path(MF, &[0x3F, 0, 0, 1, 0x50, 0x31]), Some(odf));
        assert_eq!(fs.by_path(app, &[0x50, 0x31]), Some(odf));
        assert_eq!(
            fs.by_path(app, &[0xD0, 0x03]),
            None,
            "relative = below only"
        );
        assert_eq!(fs.by_path(MF, &[0x3F]), None);
        assert_eq!(
            fs.by_fid(app, 0xD003),
            Some(sn),
            "sibling of the current DF"
        );
        assert_eq!(fs.by_fid(app, 0x3F00), Some(MF));
        assert_eq!(fs.by_aid(&[9, 9]), Some(app));
        assert_eq!(fs.by_sfi(MF, 0x1C), Some(sn));
        assert_eq!(fs.by_sfi(app, 0x1C), None);
        let mut c = Cursor::at_mf();
        c.select(&fs, odf);
        assert_eq!(
            c,
            Cursor {
                df: app,
                ef: Some(odf)
            }
        );
    }

    #[test]
    fn scbs() {
        assert!(scb_met(ALWAYS, false));
        assert!(!scb_met(PIN, false));
        assert!(scb_met(PIN, true));
        assert!(!scb_met(0x45, true));
        assert!(!scb_met(NEVER, true));
        assert_eq!(Acl::PIN_UPDATE.update(false), PIN);
        assert_eq!(Acl::PIN_UPDATE.update(true), NEVER);
    }
}
