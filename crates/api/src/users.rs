//! The one reading of what makes a user, a token and a representation acceptable, shared by the administrator's
//! portal pages and the `aduana users | tokens | representations` commands: a role that exists, a trader's
//! EORI, an agency that is registered, a login not taken, a password long enough, scopes that exist, an expiry
//! within bounds. A refusal names its field and a sentence in the catalogues (`Refusal::sentence`); nothing is
//! stored when anything is refused. The store writes every change with its audit entry.

use crate::policy::{Role, Scope};
use storage::{Actor, NewUser, Store, Token, User, UserChange};
use time::OffsetDateTime;
use wording::Language;

/// The shortest portal password accepted.
pub const PASSWORD_MIN_CHARS: usize = 12;
/// The longest: argon2 hashes anything, but a form field is bounded.
pub const PASSWORD_MAX_CHARS: usize = 256;
/// The longest a token may live, in days (ten years); 0 means it never expires.
pub const TOKEN_MAX_DAYS: u32 = 3650;

/// Why a change is refused: the form field at fault and the message (its id in the catalogues).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    NameMissing,
    RoleUnknown,
    TraderNeedsParty,
    PartyInvalid,
    AgencyNeedsCode,
    AgencyUnknown,
    LoginInvalid,
    LoginTaken,
    PasswordShort,
    PasswordLong,
    PasswordWithoutLogin,
    UserUnknown,
    UserDisabled,
    ScopeUnknown,
    ScopeMissing,
    ExpiryTooLong,
    TokenUnknown,
    RepresentativeInvalid,
    PrincipalInvalid,
    SameParty,
    OfficeUnknown,
    OfficeNotOfficer,
}

impl Refusal {
    /// The form field at fault.
    pub fn field(self) -> &'static str {
        match self {
            Refusal::NameMissing => "name",
            Refusal::RoleUnknown => "role",
            Refusal::TraderNeedsParty
            | Refusal::PartyInvalid
            | Refusal::AgencyNeedsCode
            | Refusal::AgencyUnknown => "party",
            Refusal::LoginInvalid | Refusal::LoginTaken => "login",
            Refusal::PasswordShort | Refusal::PasswordLong | Refusal::PasswordWithoutLogin => {
                "password"
            }
            Refusal::UserUnknown | Refusal::UserDisabled => "user",
            Refusal::ScopeUnknown | Refusal::ScopeMissing => "scopes",
            Refusal::ExpiryTooLong => "expires_in_days",
            Refusal::TokenUnknown => "token",
            Refusal::RepresentativeInvalid | Refusal::SameParty => "representative",
            Refusal::PrincipalInvalid => "principal",
            Refusal::OfficeUnknown | Refusal::OfficeNotOfficer => "office",
        }
    }

    /// The message's id in the catalogues.
    pub fn message_id(self) -> &'static str {
        match self {
            Refusal::NameMissing => "user-name-missing",
            Refusal::RoleUnknown => "user-role-unknown",
            Refusal::TraderNeedsParty => "user-trader-needs-party",
            Refusal::PartyInvalid => "user-party-invalid",
            Refusal::AgencyNeedsCode => "user-agency-needs-code",
            Refusal::AgencyUnknown => "user-agency-unknown",
            Refusal::LoginInvalid => "user-login-invalid",
            Refusal::LoginTaken => "user-login-taken",
            Refusal::PasswordShort => "user-password-short",
            Refusal::PasswordLong => "user-password-long",
            Refusal::PasswordWithoutLogin => "user-password-without-login",
            Refusal::UserUnknown => "user-unknown",
            Refusal::UserDisabled => "user-disabled",
            Refusal::ScopeUnknown => "token-scope-unknown",
            Refusal::ScopeMissing => "token-scope-missing",
            Refusal::ExpiryTooLong => "token-expiry-too-long",
            Refusal::TokenUnknown => "token-unknown",
            Refusal::RepresentativeInvalid => "representation-representative-invalid",
            Refusal::PrincipalInvalid => "representation-principal-invalid",
            Refusal::SameParty => "representation-same-party",
            Refusal::OfficeUnknown => "user-office-unknown",
            Refusal::OfficeNotOfficer => "user-office-not-officer",
        }
    }

    pub const ALL: [Refusal; 22] = [
        Refusal::NameMissing,
        Refusal::RoleUnknown,
        Refusal::TraderNeedsParty,
        Refusal::PartyInvalid,
        Refusal::AgencyNeedsCode,
        Refusal::AgencyUnknown,
        Refusal::LoginInvalid,
        Refusal::LoginTaken,
        Refusal::PasswordShort,
        Refusal::PasswordLong,
        Refusal::PasswordWithoutLogin,
        Refusal::UserUnknown,
        Refusal::UserDisabled,
        Refusal::ScopeUnknown,
        Refusal::ScopeMissing,
        Refusal::ExpiryTooLong,
        Refusal::TokenUnknown,
        Refusal::RepresentativeInvalid,
        Refusal::PrincipalInvalid,
        Refusal::SameParty,
        Refusal::OfficeUnknown,
        Refusal::OfficeNotOfficer,
    ];

    /// The sentence, in `t`.
    pub fn sentence(self, t: Language) -> String {
        t.text(
            self.message_id(),
            &[
                ("min", &PASSWORD_MIN_CHARS.to_string()),
                ("max", &PASSWORD_MAX_CHARS.to_string()),
                ("days", &TOKEN_MAX_DAYS.to_string()),
            ],
        )
    }
}

/// A refusal, or the store failing.
#[derive(Debug)]
pub enum UsersError {
    Refused(Vec<Refusal>),
    Store(String),
}

impl UsersError {
    /// In English, for the command line.
    pub fn english(&self) -> String {
        match self {
            UsersError::Refused(refusals) => refusals
                .iter()
                .map(|r| format!("{}: {}", r.field(), r.sentence(Language::En)))
                .collect::<Vec<_>>()
                .join("; "),
            UsersError::Store(e) => e.clone(),
        }
    }
}

impl From<storage::StoreError> for UsersError {
    fn from(e: storage::StoreError) -> Self {
        UsersError::Store(e.to_string())
    }
}

/// A user to create, as typed.
#[derive(Clone, Debug, Default)]
pub struct UserRequest {
    pub name: String,
    pub role: String,
    pub party: Option<String>,
    pub login: Option<String>,
    pub password: Option<String>,
}

fn blank_to_none(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A login: 3 to 64 letters, digits and `.`, `_`, `-`, `@`.
pub fn valid_login(login: &str) -> bool {
    (3..=64).contains(&login.len())
        && login
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
}

fn password_refusal(password: &str) -> Option<Refusal> {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        Some(Refusal::PasswordShort)
    } else if chars > PASSWORD_MAX_CHARS {
        Some(Refusal::PasswordLong)
    } else {
        None
    }
}

/// Creates a user when everything asked is acceptable (every refusal named at once), with its portal password
/// hashed (argon2id) when one is given.
pub async fn add_user(
    store: &Store,
    actor: &Actor,
    request: UserRequest,
    now: OffsetDateTime,
) -> Result<User, UsersError> {
    let mut refused = Vec::new();
    let role = Role::parse(request.role.trim());
    let party = blank_to_none(request.party);
    let login = blank_to_none(request.login);
    let password = request.password.filter(|p| !p.is_empty());
    match role {
        None => refused.push(Refusal::RoleUnknown),
        Some(Role::Trader) => match &party {
            None => refused.push(Refusal::TraderNeedsParty),
            Some(p) if declaration::PartyId::parse(p).is_err() => {
                refused.push(Refusal::PartyInvalid)
            }
            Some(_) => {}
        },
        Some(Role::Agency) => match &party {
            None => refused.push(Refusal::AgencyNeedsCode),
            Some(code) if store.agency(code).await?.is_none() => {
                refused.push(Refusal::AgencyUnknown)
            }
            Some(_) => {}
        },
        Some(_) => {}
    }
    if let Some(login) = &login {
        if !valid_login(login) {
            refused.push(Refusal::LoginInvalid);
        } else if store.user_by_login(login).await?.is_some() {
            refused.push(Refusal::LoginTaken);
        }
    }
    if let Some(password) = &password {
        if login.is_none() {
            refused.push(Refusal::PasswordWithoutLogin);
        } else if let Some(r) = password_refusal(password) {
            refused.push(r);
        }
    }
    let name = {
        let typed: String = request.name.trim().chars().take(200).collect();
        if typed.is_empty() {
            format!(
                "{} {}",
                role.map_or("", |r| r.as_str()),
                party.as_deref().unwrap_or("")
            )
            .trim()
            .to_owned()
        } else {
            typed
        }
    };
    if name.is_empty() && !refused.contains(&Refusal::RoleUnknown) {
        refused.push(Refusal::NameMissing);
    }
    if !refused.is_empty() {
        return Err(UsersError::Refused(refused));
    }
    let role = role.expect("checked above");
    let hash = password
        .as_deref()
        .map(crate::hash_password)
        .transpose()
        .map_err(UsersError::Store)?;
    let user = store
        .add_user_as(
            actor,
            NewUser {
                name,
                role: role.as_str().to_owned(),
                party,
                login,
            },
            now,
        )
        .await?;
    if let Some(hash) = hash {
        store
            .change_user(
                actor,
                &user.id,
                UserChange {
                    password_hash: Some(hash),
                    ..UserChange::default()
                },
                now,
            )
            .await?;
    }
    Ok(user)
}

/// A user that exists (disabled or not).
pub async fn existing_user(store: &Store, id: &str) -> Result<User, UsersError> {
    store
        .user(id.trim())
        .await?
        .ok_or(UsersError::Refused(vec![Refusal::UserUnknown]))
}

/// Changes a user's role.
pub async fn set_role(
    store: &Store,
    actor: &Actor,
    id: &str,
    role: &str,
    now: OffsetDateTime,
) -> Result<(), UsersError> {
    let Some(role) = Role::parse(role.trim()) else {
        return Err(UsersError::Refused(vec![Refusal::RoleUnknown]));
    };
    let user = existing_user(store, id).await?;
    // A trader or an agency officer acts for a party: a role that needs one is refused without it.
    match (role, user.party.as_deref()) {
        (Role::Trader, None) => return Err(UsersError::Refused(vec![Refusal::TraderNeedsParty])),
        (Role::Trader, Some(p)) if declaration::PartyId::parse(p).is_err() => {
            return Err(UsersError::Refused(vec![Refusal::PartyInvalid]));
        }
        (Role::Agency, None) => return Err(UsersError::Refused(vec![Refusal::AgencyNeedsCode])),
        (Role::Agency, Some(code)) if store.agency(code).await?.is_none() => {
            return Err(UsersError::Refused(vec![Refusal::AgencyUnknown]));
        }
        _ => {}
    }
    store
        .change_user(
            actor,
            &user.id,
            UserChange {
                role: Some(role.as_str().to_owned()),
                ..UserChange::default()
            },
            now,
        )
        .await?;
    Ok(())
}

/// Sets the customs office an officer works at (`office` one of the administration's `offices`; blank: any
/// office): examiners are allocated from the officers of a declaration's office.
pub async fn set_office(
    store: &Store,
    actor: &Actor,
    id: &str,
    office: &str,
    offices: &[administration::Office],
    now: OffsetDateTime,
) -> Result<(), UsersError> {
    let user = existing_user(store, id).await?;
    let office = office.trim();
    if Role::parse(&user.role) != Some(Role::Officer) {
        return Err(UsersError::Refused(vec![Refusal::OfficeNotOfficer]));
    }
    if !office.is_empty() && !offices.iter().any(|o| o.code == office) {
        return Err(UsersError::Refused(vec![Refusal::OfficeUnknown]));
    }
    store
        .change_user(
            actor,
            &user.id,
            UserChange {
                office: Some((!office.is_empty()).then(|| office.to_owned())),
                ..UserChange::default()
            },
            now,
        )
        .await?;
    Ok(())
}

/// Sets a user's portal password (the user must have a login).
pub async fn set_password(
    store: &Store,
    actor: &Actor,
    id: &str,
    password: &str,
    now: OffsetDateTime,
) -> Result<(), UsersError> {
    let user = existing_user(store, id).await?;
    if user.login.is_none() {
        return Err(UsersError::Refused(vec![Refusal::PasswordWithoutLogin]));
    }
    if let Some(r) = password_refusal(password) {
        return Err(UsersError::Refused(vec![r]));
    }
    let hash = crate::hash_password(password).map_err(UsersError::Store)?;
    store
        .change_user(
            actor,
            &user.id,
            UserChange {
                password_hash: Some(hash),
                ..UserChange::default()
            },
            now,
        )
        .await?;
    Ok(())
}

/// Disables a user: its tokens are revoked and its sessions ended, in one transaction.
pub async fn disable(
    store: &Store,
    actor: &Actor,
    id: &str,
    now: OffsetDateTime,
) -> Result<(), UsersError> {
    let user = existing_user(store, id).await?;
    store
        .change_user(
            actor,
            &user.id,
            UserChange {
                disable: true,
                ..UserChange::default()
            },
            now,
        )
        .await?;
    Ok(())
}

/// Scopes as typed (comma- or space-separated): `*` or known scopes, at least one.
pub fn parse_scopes(text: &str) -> Result<Vec<String>, Refusal> {
    let mut scopes: Vec<String> = Vec::new();
    for scope in text
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if scope != "*" && Scope::parse(scope).is_none() {
            return Err(Refusal::ScopeUnknown);
        }
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_owned());
        }
    }
    if scopes.is_empty() {
        return Err(Refusal::ScopeMissing);
    }
    Ok(scopes)
}

/// Creates an API token for an active user: the token (its secret, shown once) and what is stored of it (the
/// secret's hash only).
pub async fn create_token(
    store: &Store,
    actor: &Actor,
    user_id: &str,
    name: &str,
    scopes: &str,
    expires_in_days: u32,
    now: OffsetDateTime,
) -> Result<(Token, String), UsersError> {
    let mut refused = Vec::new();
    let scopes = parse_scopes(scopes).map_err(|r| refused.push(r)).ok();
    if expires_in_days > TOKEN_MAX_DAYS {
        refused.push(Refusal::ExpiryTooLong);
    }
    let user = existing_user(store, user_id).await?;
    if user.disabled_at.is_some() {
        refused.push(Refusal::UserDisabled);
    }
    if !refused.is_empty() {
        return Err(UsersError::Refused(refused));
    }
    let name: String = name.trim().chars().take(100).collect();
    let name = if name.is_empty() { "api".into() } else { name };
    let expires =
        (expires_in_days > 0).then(|| now + time::Duration::days(i64::from(expires_in_days)));
    let secret = crate::new_secret("adu_");
    let token = store
        .create_token(
            actor,
            &user.id,
            &name,
            &scopes.unwrap_or_default(),
            expires,
            &crate::token_hash(&secret),
            now,
        )
        .await?;
    Ok((token, secret))
}

/// Revokes a token; servers refuse it within `TOKEN_CACHE_SECONDS`.
pub async fn revoke_token(
    store: &Store,
    actor: &Actor,
    id: &str,
    now: OffsetDateTime,
) -> Result<(), UsersError> {
    if store.revoke_token(actor, id.trim(), now).await? {
        Ok(())
    } else {
        Err(UsersError::Refused(vec![Refusal::TokenUnknown]))
    }
}

/// Registers (or ends) a representation: a representative (a broker's EORI) acting for a principal.
pub async fn set_representation(
    store: &Store,
    actor: &Actor,
    representative: &str,
    principal: &str,
    granted: bool,
    now: OffsetDateTime,
) -> Result<(), UsersError> {
    let representative = representative.trim();
    let principal = principal.trim();
    let mut refused = Vec::new();
    if declaration::PartyId::parse(representative).is_err() {
        refused.push(Refusal::RepresentativeInvalid);
    }
    if declaration::PartyId::parse(principal).is_err() {
        refused.push(Refusal::PrincipalInvalid);
    }
    if refused.is_empty() && representative == principal {
        refused.push(Refusal::SameParty);
    }
    if !refused.is_empty() {
        return Err(UsersError::Refused(refused));
    }
    store
        .set_representation(actor, representative, principal, granted, now)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_known_ones_or_everything() {
        assert_eq!(
            parse_scopes("declarations:read, reports").unwrap(),
            ["declarations:read", "reports"]
        );
        assert_eq!(parse_scopes("* *").unwrap(), ["*"]);
        assert_eq!(parse_scopes(" , "), Err(Refusal::ScopeMissing));
        assert_eq!(parse_scopes("reports, root"), Err(Refusal::ScopeUnknown));
    }

    #[test]
    fn logins_are_short_plain_words() {
        assert!(valid_login("olga.m@customs"));
        assert!(!valid_login("ol"));
        assert!(!valid_login("olga smith"));
        assert!(!valid_login(&"a".repeat(65)));
    }

    #[test]
    fn every_refusal_is_said_in_every_language() {
        for refusal in Refusal::ALL {
            for t in [Language::En, Language::Fr, Language::Es] {
                let sentence = refusal.sentence(t);
                assert!(
                    !sentence.is_empty() && !sentence.contains(refusal.message_id()),
                    "{refusal:?} in {t:?}: {sentence}"
                );
            }
        }
    }
}
