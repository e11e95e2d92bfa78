//! The tamper-evident audit trail.
//!
//! Every state change, decision, login, permission change and data export is an [`Entry`]: who, when, what was
//! done to what, and the SHA-256 of what changed. Entries are numbered from 1 without gaps, and each carries the
//! hash of the one before it, so editing, deleting, inserting or reordering an entry breaks the chain at that
//! entry. Someone able to rewrite the whole database could recompute the chain; [`Checkpoint`]s stop that: the
//! head of the chain (number and hash) is signed with Ed25519 and written outside the database, so a rewritten
//! chain no longer matches what was signed, and a deleted tail is shorter than what was signed.
//!
//! [`Verifier`] reads the chain in order with the checkpoints and names the first bad entry.
//!
//! **Architecture invariant**: pure. No IO, no clock (times are passed in), no randomness (keys are made from
//! bytes the caller draws).

use ed25519_dalek::{Signer, Verifier as _};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;

pub use ed25519_dalek::{SigningKey, VerifyingKey};

/// The hash an entry before the first one is taken to have.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The SHA-256 of some bytes, in lower-case hex: how "what changed" is recorded.
pub fn data_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

macro_rules! actions {
    ($( $variant:ident => ($name:literal, $meaning:literal), )*) => {
        /// Everything the trail records, in one table (as the error table is for errors): the name stored in
        /// each entry's `action` and what it means. Entries are written only through it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Action { $( $variant, )* }

        impl Action {
            pub const ALL: &'static [Action] = &[ $( Action::$variant, )* ];

            /// The name stored in the entry.
            pub const fn as_str(self) -> &'static str { match self { $( Action::$variant => $name, )* } }

            /// What it records, for auditors.
            pub const fn meaning(self) -> &'static str { match self { $( Action::$variant => $meaning, )* } }

            pub fn parse(text: &str) -> Option<Action> {
                Action::ALL.iter().copied().find(|a| a.as_str() == text)
            }
        }
    };
}

actions! {
    DeclarationEvent => ("declaration.event", "An event appended to a declaration's history."),
    DeclarationVersion => ("declaration.version", "A version of a declaration received, as received."),
    LedgerTransfer => ("ledger.transfer", "A transfer written to the ledger."),
    LedgerAccount => ("ledger.account", "A deferment account or guarantee opened, or its limit changed."),
    LedgerAccountHolder => ("ledger.account_holder", "The holder of an account recorded."),
    LedgerAuthorityGrant => ("ledger.authority_grant", "A holder authorised a declarant to name its account."),
    LedgerAuthorityRevoke => ("ledger.authority_revoke", "An authority to name an account ended."),
    PaymentOrder => ("payment.order", "A payment order issued."),
    PaymentOrderPaid => ("payment.order_paid", "A payment order paid."),
    PaymentOrderSuperseded => ("payment.order_superseded", "A payment order replaced by one for another amount."),
    PaymentOrderReopened => ("payment.order_reopened", "A payment order opened again."),
    PaymentConfirmation => ("payment.confirmation", "A bank's confirmation received."),
    RefundRequest => ("refund.request", "A refund requested."),
    RefundApproval => ("refund.approval", "A refund approved (the last approval pays it)."),
    ReceiptIssue => ("receipt.issue", "A payment receipt issued."),
    ReferenceImport => ("reference.import", "A tariff, nomenclature or exchange-rate file imported."),
    RiskRulesSave => ("risk.rules.save", "A risk rule set saved as a new version."),
    RiskListSave => ("risk.list.save", "A watch list or the AEO register saved as a new version."),
    RiskRatesSave => ("risk.rates.save", "A lane rate table saved as a new version."),
    RiskModelSave => ("risk.model.save", "A risk model saved as a new version."),
    RiskModelChoiceSave => ("risk.model_choice.save", "The risk model in use chosen."),
    ManifestLodge => ("manifest.lodge", "A carrier's cargo report received."),
    ManifestArrival => ("manifest.arrival", "The means of transport of a cargo report arrived: its goods presented and in temporary storage."),
    TransitDeparture => ("transit.departure", "A departure declaration (NCTS CC015C) accepted with its MRN, its guarantee reserved."),
    TransitStep => ("transit.step", "A transit movement took a step: released, arrived, unloading permitted, remarks, discharged or cancelled."),
    EntrySummaryLodge => ("entry_summary.lodge", "A carrier's entry summary declaration accepted with its MRN."),
    EntrySummaryAmend => ("entry_summary.amend", "An amendment of an entry summary declaration accepted as its next version."),
    ReferralOpen => ("referral.open", "A consignment referred to its carrier: a request for information, for high-risk cargo screening, or do-not-load."),
    ReferralAnswer => ("referral.answer", "A carrier's answer to a referral."),
    ReferralClose => ("referral.close", "A referral closed by customs (a do-not-load lifted)."),
    AdministrationSave => ("administration.save", "The administration's profile saved as a new version."),
    UserAdd => ("user.add", "A user created."),
    UserRole => ("user.role", "A user's role changed."),
    UserLoginName => ("user.login_name", "A user's portal login set."),
    UserOffice => ("user.office", "The customs office an officer works at set."),
    PublicationSave => ("publication.save", "A procedure, form, fee or draft rule published for everyone."),
    PublicationFinal => ("publication.final", "A rule's final text published, its comment period over."),
    EnquiryAnswer => ("enquiry.answer", "An officer's answer to a question sent to the enquiry point."),
    UserPassword => ("user.password", "A user's portal password changed (never the password)."),
    UserDisable => ("user.disable", "A user disabled."),
    UserLogin => ("user.login", "A portal sign-in."),
    UserLoginFailed => ("user.login_failed", "A failed portal sign-in."),
    UserLogout => ("user.logout", "A portal sign-out."),
    TokenCreate => ("token.create", "An API token created (never the token)."),
    TokenRevoke => ("token.revoke", "An API token revoked."),
    RepresentationGrant => ("representation.grant", "A representative registered for a principal."),
    RepresentationRevoke => ("representation.revoke", "A representation ended."),
    Export => ("export", "A report, statement or the trail itself read (a data export)."),
    AgencySave => ("agency.save", "A partner agency registered or changed."),
    AgencyRulesSave => ("agency.rules_save", "A partner agency's selection rules saved as a new version."),
    LpcoTypeSave => ("lpco.type_save", "An agency's licence, permit or certificate type saved."),
    LpcoApplication => ("lpco.application", "An application for a licence, permit or certificate filed."),
    LpcoDecision => ("lpco.decision", "An agency's decision on an application."),
    LpcoIssue => ("lpco.issue", "A licence, permit or certificate issued."),
    LpcoDraw => ("lpco.draw", "A declaration's goods item drew on a licence, permit or certificate."),
    DocumentUpload => ("document.upload", "A document uploaded (its SHA-256, type and size; stored once)."),
    LpcoReturn => ("lpco.return", "What a cancelled declaration drew given back to a licence, permit or certificate."),
    InspectionAllocate => ("inspection.allocate", "An examiner allocated to a declaration under control."),
    InspectionAct => ("inspection.act", "An inspection act recorded with the control result it gave."),
}

/// What a new entry says; the chain gives it its number and hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEntry {
    /// RFC 3339 UTC time.
    pub at: String,
    pub actor: String,
    pub actor_role: String,
    /// What was done: an [`Action`]'s name (`declaration.event`, `ledger.transfer`, `user.login`, …).
    pub action: String,
    /// What it was done to, e.g. `declaration/<id>/000003`.
    pub subject: String,
    /// [`data_hash`] of what changed.
    pub data_hash: String,
}

/// One entry of the chain, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub seq: u64,
    pub at: String,
    pub actor: String,
    pub actor_role: String,
    pub action: String,
    pub subject: String,
    pub data_hash: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Entry {
    /// The hash this entry should carry, from its fields and its `prev_hash`.
    pub fn computed_hash(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"aduana-audit-entry-v1");
        for field in [
            self.prev_hash.as_str(),
            &self.seq.to_string(),
            &self.at,
            &self.actor,
            &self.actor_role,
            &self.action,
            &self.subject,
            &self.data_hash,
        ] {
            // Length-prefixed, so that no two different entries hash the same bytes.
            hasher.update((field.len() as u64).to_le_bytes());
            hasher.update(field.as_bytes());
        }
        hex::encode(hasher.finalize())
    }
}

/// The end of the chain: the last entry's number and hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub seq: u64,
    pub hash: String,
}

impl Head {
    pub fn genesis() -> Head {
        Head {
            seq: 0,
            hash: GENESIS.to_owned(),
        }
    }

    /// Chains a new entry after this head and moves the head to it.
    pub fn append(&mut self, new: NewEntry) -> Entry {
        let mut entry = Entry {
            seq: self.seq + 1,
            at: new.at,
            actor: new.actor,
            actor_role: new.actor_role,
            action: new.action,
            subject: new.subject,
            data_hash: new.data_hash,
            prev_hash: self.hash.clone(),
            hash: String::new(),
        };
        entry.hash = entry.computed_hash();
        self.seq = entry.seq;
        self.hash = entry.hash.clone();
        entry
    }
}

/// A signed statement that the chain had `hash` at entry `seq` at time `at`. Kept outside the database.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub seq: u64,
    pub hash: String,
    pub at: String,
    /// The signer's public key, hex.
    pub key: String,
    /// Ed25519 signature of [`Checkpoint::message`], hex.
    pub signature: String,
}

impl Checkpoint {
    fn message(seq: u64, hash: &str, at: &str) -> Vec<u8> {
        let mut message = b"aduana-audit-checkpoint-v1".to_vec();
        for field in [seq.to_string().as_str(), hash, at] {
            message.extend_from_slice(&(field.len() as u64).to_le_bytes());
            message.extend_from_slice(field.as_bytes());
        }
        message
    }

    pub fn sign(head: &Head, at: &str, key: &SigningKey) -> Checkpoint {
        let signature = key.sign(&Checkpoint::message(head.seq, &head.hash, at));
        Checkpoint {
            seq: head.seq,
            hash: head.hash.clone(),
            at: at.to_owned(),
            key: hex::encode(key.verifying_key().as_bytes()),
            signature: hex::encode(signature.to_bytes()),
        }
    }

    /// Whether the signature is good and made by one of `trusted`.
    pub fn is_signed_by(&self, trusted: &[VerifyingKey]) -> bool {
        let Some(key) = trusted
            .iter()
            .find(|k| hex::encode(k.as_bytes()) == self.key)
        else {
            return false;
        };
        let Ok(bytes) = hex::decode(&self.signature) else {
            return false;
        };
        let Ok(bytes) = <[u8; 64]>::try_from(bytes.as_slice()) else {
            return false;
        };
        let signature = ed25519_dalek::Signature::from_bytes(&bytes);
        key.verify(
            &Checkpoint::message(self.seq, &self.hash, &self.at),
            &signature,
        )
        .is_ok()
    }
}

/// A signing key from 32 secret bytes (drawn by the caller).
pub fn signing_key(secret: [u8; 32]) -> SigningKey {
    SigningKey::from_bytes(&secret)
}

/// A public key from its hex form.
pub fn verifying_key(text: &str) -> Option<VerifyingKey> {
    let bytes = hex::decode(text.trim()).ok()?;
    let bytes = <[u8; 32]>::try_from(bytes.as_slice()).ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

/// What is wrong, found by the [`Verifier`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The entry with this number is absent: the next one found has `found`.
    Missing { found: u64 },
    /// An entry with a number already passed appears again (an insertion or a reordering).
    OutOfOrder { found: u64 },
    /// The entry does not name the previous entry's hash: the previous entry was replaced (edited and its hash
    /// recomputed), or this one was moved.
    BrokenLink,
    /// The entry names the hash of the entry two before it: the entry before it was inserted.
    Inserted,
    /// The entry's fields do not give its hash (the entry was edited).
    Edited,
    /// The chain is consistent but differs from a signed checkpoint: entries from `first_bad` up to the
    /// checkpoint were rewritten.
    Rewritten { checkpoint: u64, signed_at: String },
    /// The chain ends before a signed checkpoint: entries after the last one were deleted.
    Truncated { last: u64, checkpoint: u64 },
    /// A checkpoint's signature is bad or made by an untrusted key.
    BadCheckpoint { checkpoint: u64 },
}

/// The first bad entry and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The number of the first entry that cannot be trusted.
    pub first_bad: u64,
    pub problem: Problem,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.first_bad;
        match &self.problem {
            Problem::Missing { found } => write!(
                f,
                "entry {n} is missing: the chain jumps to entry {found} (entries were deleted)"
            ),
            Problem::OutOfOrder { found } => write!(
                f,
                "entry {n}: entry {found} appears again out of order (entries were inserted or reordered)"
            ),
            Problem::BrokenLink => write!(
                f,
                "entry {n} was replaced: entry {} does not name its hash (entries were edited, inserted, deleted or reordered)",
                n + 1
            ),
            Problem::Inserted => write!(
                f,
                "entry {n} was inserted: entry {} names the hash of entry {} before it",
                n + 1,
                n.saturating_sub(1)
            ),
            Problem::Edited => write!(
                f,
                "entry {n} was edited: its fields no longer give its hash"
            ),
            Problem::Rewritten {
                checkpoint,
                signed_at,
            } => write!(
                f,
                "entries {n} to {checkpoint} were rewritten: the chain at entry {checkpoint} differs from the checkpoint signed at {signed_at}"
            ),
            Problem::Truncated { last, checkpoint } => write!(
                f,
                "entry {n} is missing: the chain ends at entry {last} but a signed checkpoint covers entry {checkpoint} (entries were deleted)"
            ),
            Problem::BadCheckpoint { checkpoint } => write!(
                f,
                "the checkpoint for entry {checkpoint} is not signed by a trusted key"
            ),
        }
    }
}

/// What a successful verification saw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub entries: u64,
    pub head: Head,
    pub checkpoints_matched: usize,
    /// Entries after the last checkpoint: protected by the chain only (a deleted tail among them is undetectable
    /// until the next checkpoint).
    pub unsealed: u64,
}

/// Checks a chain read in order, against checkpoints. Feed every entry to [`Verifier::push`], then call
/// [`Verifier::finish`]; the first error is the first bad entry.
pub struct Verifier {
    head: Head,
    /// The hash of the entry before the head, to recognise an inserted entry.
    before_head: String,
    checkpoints: BTreeMap<u64, Checkpoint>,
    last_matched: u64,
    matched: usize,
}

impl Verifier {
    /// Fails when a checkpoint is not signed by a trusted key, or two checkpoints disagree on one entry.
    pub fn new(
        checkpoints: Vec<Checkpoint>,
        trusted: &[VerifyingKey],
    ) -> Result<Verifier, Finding> {
        let mut by_seq: BTreeMap<u64, Checkpoint> = BTreeMap::new();
        for checkpoint in checkpoints {
            let bad = Finding {
                first_bad: checkpoint.seq.max(1),
                problem: Problem::BadCheckpoint {
                    checkpoint: checkpoint.seq,
                },
            };
            if !checkpoint.is_signed_by(trusted) {
                return Err(bad);
            }
            if let Some(other) = by_seq.get(&checkpoint.seq)
                && other.hash != checkpoint.hash
            {
                return Err(bad);
            }
            by_seq.insert(checkpoint.seq, checkpoint);
        }
        Ok(Verifier {
            head: Head::genesis(),
            before_head: String::new(),
            checkpoints: by_seq,
            last_matched: 0,
            matched: 0,
        })
    }

    pub fn push(&mut self, entry: &Entry) -> Result<(), Finding> {
        let expected = self.head.seq + 1;
        if entry.seq > expected {
            return Err(Finding {
                first_bad: expected,
                problem: Problem::Missing { found: entry.seq },
            });
        }
        if entry.seq < expected {
            return Err(Finding {
                first_bad: expected,
                problem: Problem::OutOfOrder { found: entry.seq },
            });
        }
        // The hash first: an entry whose fields were edited is named itself.
        if entry.computed_hash() != entry.hash {
            let inserted_before = entry.seq >= 2 && entry.prev_hash == self.before_head;
            return Err(if inserted_before {
                Finding {
                    first_bad: entry.seq - 1,
                    problem: Problem::Inserted,
                }
            } else {
                Finding {
                    first_bad: entry.seq,
                    problem: Problem::Edited,
                }
            });
        }
        // A consistent entry that does not link to the previous one: the previous one was replaced whole.
        if entry.prev_hash != self.head.hash {
            return Err(if entry.seq >= 2 && entry.prev_hash == self.before_head {
                Finding {
                    first_bad: entry.seq - 1,
                    problem: Problem::Inserted,
                }
            } else if entry.seq == 1 {
                Finding {
                    first_bad: 1,
                    problem: Problem::Edited,
                }
            } else {
                Finding {
                    first_bad: entry.seq - 1,
                    problem: Problem::BrokenLink,
                }
            });
        }
        self.before_head = std::mem::take(&mut self.head.hash);
        self.head = Head {
            seq: entry.seq,
            hash: entry.hash.clone(),
        };
        if let Some(checkpoint) = self.checkpoints.get(&entry.seq) {
            if checkpoint.hash != entry.hash {
                return Err(Finding {
                    first_bad: self.last_matched + 1,
                    problem: Problem::Rewritten {
                        checkpoint: checkpoint.seq,
                        signed_at: checkpoint.at.clone(),
                    },
                });
            }
            self.last_matched = entry.seq;
            self.matched += 1;
        }
        Ok(())
    }

    pub fn finish(self) -> Result<Summary, Finding> {
        if let Some((&seq, _)) = self.checkpoints.range(self.head.seq + 1..).next_back() {
            return Err(Finding {
                first_bad: self.head.seq + 1,
                problem: Problem::Truncated {
                    last: self.head.seq,
                    checkpoint: seq,
                },
            });
        }
        if let Some(checkpoint) = self.checkpoints.get(&0)
            && checkpoint.hash != GENESIS
        {
            return Err(Finding {
                first_bad: 1,
                problem: Problem::Rewritten {
                    checkpoint: 0,
                    signed_at: checkpoint.at.clone(),
                },
            });
        }
        Ok(Summary {
            entries: self.head.seq,
            unsealed: self.head.seq - self.last_matched,
            head: self.head,
            checkpoints_matched: self.matched,
        })
    }
}

/// Verifies a whole chain held in memory.
pub fn verify(
    entries: &[Entry],
    checkpoints: Vec<Checkpoint>,
    trusted: &[VerifyingKey],
) -> Result<Summary, Finding> {
    let mut verifier = Verifier::new(checkpoints, trusted)?;
    for entry in entries {
        verifier.push(entry)?;
    }
    verifier.finish()
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod action_table {
    use super::Action;

    /// The action table is one table: names unique, dotted by area, each read back to itself, each explained.
    #[test]
    fn actions_are_unique_named_and_explained() {
        let mut seen = std::collections::HashSet::new();
        for action in Action::ALL {
            assert!(seen.insert(action.as_str()), "{} twice", action.as_str());
            assert_eq!(Action::parse(action.as_str()), Some(*action));
            assert!(action.meaning().ends_with('.'), "{:?}", action);
            assert!(
                action.as_str() == "export" || action.as_str().contains('.'),
                "{} should be area.what",
                action.as_str()
            );
        }
    }
}
