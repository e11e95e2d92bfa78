//! Referrals: what customs asks of a carrier about a consignment declared in an entry summary before loading or
//! arrival — a request for information, a request for high-risk cargo screening, or do-not-load — and their
//! lifecycle: opened by an officer or risk analyst, answered by the carrier, closed by customs. A do-not-load
//! stands until it is closed: while it does, no declaration naming the consignment's references (its UCR, the
//! goods items' commercial references and transport documents) is accepted.

/// What customs asks: the referral kinds of the rule language (rules ending `then do_not_load`, …).
pub use selectivity::Referral as Kind;

/// Where a referral stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Sent to the carrier, awaiting its answer.
    Open,
    /// The carrier answered; customs decides.
    Answered,
    /// Customs closed it (a do-not-load is lifted).
    Closed,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Open, Status::Answered, Status::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Answered => "answered",
            Status::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// What is done to a referral.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The carrier answers (once).
    Answer,
    /// Customs closes it, answered or not.
    Close,
}

/// The status after `step`, or why the step is not possible.
pub fn next(status: Status, step: Step) -> Result<Status, &'static str> {
    match (status, step) {
        (Status::Open, Step::Answer) => Ok(Status::Answered),
        (Status::Answered, Step::Answer) => {
            Err("The referral is answered already; customs closes it.")
        }
        (Status::Open | Status::Answered, Step::Close) => Ok(Status::Closed),
        (Status::Closed, _) => Err("The referral is closed; nothing more is done to it."),
    }
}

/// Whether a referral of `kind` in `status` stops the consignment's declarations.
pub fn blocks(kind: Kind, status: Status) -> bool {
    kind == Kind::DoNotLoad && status != Status::Closed
}

/// The references by which later declarations name the consignment of an entry summary: the UCR
/// (HEAHEA/ComRefNumHEA), each goods item's commercial reference (ComRefNumGIM1) and its documents
/// (PRODOCDC2/DocRefDC23), each once, at most 200.
pub fn references(message: &crate::Message) -> Vec<String> {
    let root = &message.root;
    let mut out: Vec<String> = Vec::new();
    let mut add = |text: Option<&str>| {
        if let Some(text) = text.map(str::trim).filter(|t| !t.is_empty())
            && out.len() < 200
            && !out.iter().any(|o| o == text)
        {
            out.push(text.to_owned());
        }
    };
    add(root.child("HEAHEA").and_then(|h| h.text_of("ComRefNumHEA")));
    for item in root.all("GOOITEGDS") {
        add(item.text_of("ComRefNumGIM1"));
        for document in item.all("PRODOCDC2") {
            add(document.text_of("DocRefDC23"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_referral_is_answered_once_and_closed_once() {
        assert_eq!(next(Status::Open, Step::Answer), Ok(Status::Answered));
        assert_eq!(next(Status::Open, Step::Close), Ok(Status::Closed));
        assert_eq!(next(Status::Answered, Step::Close), Ok(Status::Closed));
        assert!(next(Status::Answered, Step::Answer).is_err());
        assert!(next(Status::Closed, Step::Close).is_err());
        assert!(next(Status::Closed, Step::Answer).is_err());
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
            for status in Status::ALL {
                assert_eq!(Status::parse(status.as_str()), Some(status));
                assert_eq!(
                    blocks(kind, status),
                    kind == Kind::DoNotLoad && status != Status::Closed
                );
            }
        }
    }
}
