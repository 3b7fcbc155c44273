//! Organization sync: URL patterns that name the organization (or the personal account)
//! a page belongs to, so that the active organization can be switched through a handshake.
//!
//! Patterns use the syntax of path-to-regexp 6.x, as Clerk's SDK does: literal text, named
//! parameters `:id` / `:slug` (one path segment), optional `:param?`, repeated `:param*` /
//! `:param+`, custom patterns `(.*)` / `:id(org_[a-z0-9]+)`, groups `{…}`, and `\` escapes.
//! Matching is case-insensitive, allows one trailing delimiter (`/`, `#` or `?`), and is anchored
//! at both ends; parameters are not URI-decoded. A bare `*` (as in `/orgs/*`) is not a wildcard
//! in path-to-regexp 6 and is rejected; write `/orgs/(.*)`.

use std::fmt;

use regex::bytes::{Regex, RegexBuilder};

use crate::error::ConfigError;

/// Which URLs select an organization or the personal account (Clerk's
/// `organizationSyncOptions`).
///
/// An empty list means "not configured". (Clerk's SDK compiles an empty array into a pattern that
/// matches every path; clerk-auth does not.)
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrganizationSyncOptions {
    /// Patterns with an `:id` (organization id) or `:slug` (organization slug) parameter, for
    /// example `/orgs/:slug` and `/orgs/:slug/(.*)`.
    pub organization_patterns: Vec<String>,
    /// Patterns of pages that belong to the personal account, for example `/me` and `/me/(.*)`.
    pub personal_account_patterns: Vec<String>,
}

impl OrganizationSyncOptions {
    /// Whether no pattern is configured.
    pub fn is_empty(&self) -> bool {
        self.organization_patterns.is_empty() && self.personal_account_patterns.is_empty()
    }
}

/// What a URL says should be active (Clerk's `OrganizationSyncTarget`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OrganizationSyncTarget {
    /// The personal account (no active organization).
    PersonalAccount,
    /// The organization with this id.
    OrganizationId(String),
    /// The organization with this slug.
    OrganizationSlug(String),
}

/// Compiled organization-sync patterns (Clerk's `OrganizationMatcher`).
#[derive(Clone, Debug)]
pub struct OrganizationMatcher {
    organization: Option<PathPatterns>,
    personal_account: Option<PathPatterns>,
}

impl OrganizationMatcher {
    /// Compiles the patterns; an invalid pattern is [`ConfigError::InvalidPattern`].
    pub fn new(options: &OrganizationSyncOptions) -> Result<Self, ConfigError> {
        let compile = |patterns: &[String]| {
            if patterns.is_empty() {
                Ok(None)
            } else {
                PathPatterns::new(patterns).map(Some)
            }
        };
        Ok(Self {
            organization: compile(&options.organization_patterns)?,
            personal_account: compile(&options.personal_account_patterns)?,
        })
    }

    /// Clerk's `findTarget` for a URL path (`clerkUrl.pathname`):
    /// an organization pattern whose match has a non-empty `id` (else `slug`) parameter gives
    /// that organization; otherwise any personal-account match gives the personal account.
    pub fn find_target(&self, path: &str) -> Option<OrganizationSyncTarget> {
        if let Some(params) = self.organization.as_ref().and_then(|p| p.match_path(path)) {
            let get = |name: &str| {
                params
                    .iter()
                    .rev()
                    .find(|(k, v)| k == name && !v.is_empty())
                    .map(|(_, v)| v.clone())
            };
            if let Some(id) = get("id") {
                return Some(OrganizationSyncTarget::OrganizationId(id));
            }
            if let Some(slug) = get("slug") {
                return Some(OrganizationSyncTarget::OrganizationSlug(slug));
            }
        }
        self.personal_account
            .as_ref()
            .and_then(|p| p.match_path(path))
            .map(|_| OrganizationSyncTarget::PersonalAccount)
    }
}

/// One or more path-to-regexp 6.x patterns compiled into one matcher (path-to-regexp's
/// `match([...])` with default options).
#[derive(Clone)]
pub struct PathPatterns {
    regex: Regex,
    keys: Vec<Key>,
    sources: Vec<String>,
}

#[derive(Clone, Debug)]
struct Key {
    group: String,
    name: String,
}

impl fmt::Debug for PathPatterns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PathPatterns")
            .field("patterns", &self.sources)
            .finish()
    }
}

impl PathPatterns {
    /// Compiles `patterns`; the first invalid one is reported as
    /// [`ConfigError::InvalidPattern`].
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Self, ConfigError> {
        let mut keys = Vec::new();
        let mut sources = Vec::new();
        let mut alternatives = Vec::new();
        for pattern in patterns {
            let pattern = pattern.as_ref();
            let invalid = |detail: String| ConfigError::InvalidPattern {
                pattern: pattern.to_owned(),
                detail,
            };
            let tokens = parse(pattern).map_err(invalid)?;
            let source = tokens_to_regex(&tokens, &mut keys).map_err(invalid)?;
            // Check each alternative on its own so that the error names the right pattern.
            build_regex(&source).map_err(invalid)?;
            alternatives.push(source);
            sources.push(pattern.to_owned());
        }
        let combined = format!("(?:{})", alternatives.join("|"));
        let regex = build_regex(&combined).map_err(|detail| ConfigError::InvalidPattern {
            pattern: sources.join(","),
            detail,
        })?;
        Ok(Self {
            regex,
            keys,
            sources,
        })
    }

    /// Matches a whole path. `None` when no pattern matches; otherwise the parameters that took
    /// part in the match, in pattern order (`(name, raw value)`; unnamed custom patterns are
    /// named `0`, `1`, … as in path-to-regexp). Values are not URI-decoded.
    ///
    /// The patterns match bytes; a match whose parameter would split a non-ASCII character
    /// counts as no match (fail closed: no parameter ever holds a value the path does not).
    pub fn match_path(&self, path: &str) -> Option<Vec<(String, String)>> {
        let caps = self.regex.captures(path.as_bytes())?;
        self.keys
            .iter()
            .filter_map(|key| {
                caps.name(&key.group).map(|m| {
                    std::str::from_utf8(m.as_bytes())
                        .ok()
                        .map(|v| (key.name.clone(), v.to_owned()))
                })
            })
            .collect()
    }

    /// Whether a path matches any pattern.
    pub fn is_match(&self, path: &str) -> bool {
        if path.is_ascii() {
            self.regex.is_match(path.as_bytes())
        } else {
            self.match_path(path).is_some()
        }
    }
}

fn build_regex(source: &str) -> Result<Regex, String> {
    RegexBuilder::new(source)
        .case_insensitive(true)
        .unicode(false)
        .build()
        .map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------------------------
// path-to-regexp 6.x: lexer, parser and regex generation (default options: prefixes "./",
// delimiter "/#?", not strict, anchored at start and end, case-insensitive).
// ---------------------------------------------------------------------------------------------

const DELIMITER: &str = "/#?";
const PREFIXES: &str = "./";

#[derive(Clone, Debug, PartialEq, Eq)]
enum Lex {
    Modifier(char),
    Escaped(char),
    Open,
    Close,
    Name(String),
    Pattern(String),
    Char(char),
    End,
}

impl Lex {
    fn kind(&self) -> &'static str {
        match self {
            Self::Modifier(_) => "MODIFIER",
            Self::Escaped(_) => "ESCAPED_CHAR",
            Self::Open => "OPEN",
            Self::Close => "CLOSE",
            Self::Name(_) => "NAME",
            Self::Pattern(_) => "PATTERN",
            Self::Char(_) => "CHAR",
            Self::End => "END",
        }
    }
}

fn lex(input: &str) -> Result<Vec<(usize, Lex)>, String> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            '*' | '+' | '?' => {
                out.push((i, Lex::Modifier(c)));
                i += 1;
            }
            '\\' => {
                let Some(&next) = chars.get(i + 1) else {
                    return Err(format!("Trailing escape character at {i}"));
                };
                out.push((i, Lex::Escaped(next)));
                i += 2;
            }
            '{' => {
                out.push((i, Lex::Open));
                i += 1;
            }
            '}' => {
                out.push((i, Lex::Close));
                i += 1;
            }
            ':' => {
                let mut j = i + 1;
                let mut name = String::new();
                while let Some(&n) = chars.get(j) {
                    if n.is_ascii_alphanumeric() || n == '_' {
                        name.push(n);
                        j += 1;
                    } else {
                        break;
                    }
                }
                if name.is_empty() {
                    return Err(format!("Missing parameter name at {i}"));
                }
                out.push((i, Lex::Name(name)));
                i = j;
            }
            '(' => {
                let mut depth = 1usize;
                let mut pattern = String::new();
                let mut j = i + 1;
                if chars.get(j) == Some(&'?') {
                    return Err(format!("Pattern cannot start with \"?\" at {j}"));
                }
                while let Some(&p) = chars.get(j) {
                    if p == '\\' {
                        pattern.push(p);
                        if let Some(&escaped) = chars.get(j + 1) {
                            pattern.push(escaped);
                        }
                        j += 2;
                        continue;
                    }
                    if p == ')' {
                        depth -= 1;
                        if depth == 0 {
                            j += 1;
                            break;
                        }
                    } else if p == '(' {
                        depth += 1;
                        if chars.get(j + 1) != Some(&'?') {
                            return Err(format!("Capturing groups are not allowed at {j}"));
                        }
                    }
                    pattern.push(p);
                    j += 1;
                }
                if depth > 0 {
                    return Err(format!("Unbalanced pattern at {i}"));
                }
                if pattern.is_empty() {
                    return Err(format!("Missing pattern at {i}"));
                }
                out.push((i, Lex::Pattern(pattern)));
                i = j;
            }
            _ => {
                out.push((i, Lex::Char(c)));
                i += 1;
            }
        }
    }
    out.push((chars.len(), Lex::End));
    Ok(out)
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Text(String),
    Key {
        name: String,
        prefix: String,
        suffix: String,
        pattern: String,
        modifier: Option<char>,
    },
}

struct Parser {
    tokens: Vec<(usize, Lex)>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Lex> {
        self.tokens.get(self.pos).map(|(_, t)| t)
    }

    fn try_char(&mut self) -> Option<char> {
        match self.peek() {
            Some(Lex::Char(c)) => {
                let c = *c;
                self.pos += 1;
                Some(c)
            }
            _ => None,
        }
    }

    fn try_escaped(&mut self) -> Option<char> {
        match self.peek() {
            Some(Lex::Escaped(c)) => {
                let c = *c;
                self.pos += 1;
                Some(c)
            }
            _ => None,
        }
    }

    fn try_name(&mut self) -> Option<String> {
        match self.peek() {
            Some(Lex::Name(n)) => {
                let n = n.clone();
                self.pos += 1;
                Some(n)
            }
            _ => None,
        }
    }

    fn try_pattern(&mut self) -> Option<String> {
        match self.peek() {
            Some(Lex::Pattern(p)) => {
                let p = p.clone();
                self.pos += 1;
                Some(p)
            }
            _ => None,
        }
    }

    fn try_modifier(&mut self) -> Option<char> {
        match self.peek() {
            Some(Lex::Modifier(m)) => {
                let m = *m;
                self.pos += 1;
                Some(m)
            }
            _ => None,
        }
    }

    fn try_open(&mut self) -> bool {
        if self.peek() == Some(&Lex::Open) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn must(&mut self, expected: Lex) -> Result<(), String> {
        match self.tokens.get(self.pos) {
            Some((_, t)) if *t == expected => {
                self.pos += 1;
                Ok(())
            }
            Some((index, t)) => Err(format!(
                "Unexpected {} at {index}, expected {}",
                t.kind(),
                expected.kind()
            )),
            None => Err(format!("Unexpected end, expected {}", expected.kind())),
        }
    }

    fn consume_text(&mut self) -> String {
        let mut out = String::new();
        while let Some(c) = self.try_char().or_else(|| self.try_escaped()) {
            out.push(c);
        }
        out
    }
}

/// path-to-regexp's default segment pattern, or the pattern that refuses to run into the text
/// before it (`(?:(?!text)[^/#?])+?`). Rust's `regex` has no look-ahead, so the latter is written
/// as a character class, which is exact for a single preceding character; longer text is not
/// supported.
fn safe_pattern(result: &[Token], prefix: &str) -> Result<String, String> {
    let prev = result.last();
    let text = if !prefix.is_empty() {
        prefix
    } else if let Some(Token::Text(s)) = prev {
        s.as_str()
    } else {
        ""
    };
    if text.is_empty() {
        if let Some(Token::Key { name, .. }) = prev {
            return Err(format!(
                "Must have text between two parameters, missing text after \"{name}\""
            ));
        }
    }
    if text.is_empty() || text.contains(|c| DELIMITER.contains(c)) {
        return Ok("[^/#?]+?".to_owned());
    }
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii() => Ok(format!("[^/#?\\x{{{:02X}}}]+?", c as u32)),
        _ => Err(format!(
            "a parameter directly after the text {text:?} (with no `/`) is not supported"
        )),
    }
}

fn parse(input: &str) -> Result<Vec<Token>, String> {
    let mut p = Parser {
        tokens: lex(input)?,
        pos: 0,
    };
    let mut result: Vec<Token> = Vec::new();
    let mut key = 0usize;
    let mut path = String::new();
    while p.pos < p.tokens.len() {
        let ch = p.try_char();
        let name = p.try_name();
        let pattern = p.try_pattern();
        if name.is_some() || pattern.is_some() {
            let mut prefix = ch.map(String::from).unwrap_or_default();
            if !PREFIXES.contains(prefix.as_str()) {
                path.push_str(&prefix);
                prefix.clear();
            }
            if !path.is_empty() {
                result.push(Token::Text(std::mem::take(&mut path)));
            }
            let name = name.unwrap_or_else(|| {
                key += 1;
                (key - 1).to_string()
            });
            let pattern = match pattern {
                Some(pattern) => pattern,
                None => safe_pattern(&result, &prefix)?,
            };
            let modifier = p.try_modifier();
            result.push(Token::Key {
                name,
                prefix,
                suffix: String::new(),
                pattern,
                modifier,
            });
            continue;
        }
        if let Some(c) = ch.or_else(|| p.try_escaped()) {
            path.push(c);
            continue;
        }
        if !path.is_empty() {
            result.push(Token::Text(std::mem::take(&mut path)));
        }
        if p.try_open() {
            let prefix = p.consume_text();
            let name = p.try_name().unwrap_or_default();
            let pattern = p.try_pattern().unwrap_or_default();
            let suffix = p.consume_text();
            p.must(Lex::Close)?;
            let key_name = if !name.is_empty() {
                name.clone()
            } else if !pattern.is_empty() {
                key += 1;
                (key - 1).to_string()
            } else {
                String::new()
            };
            let pattern = if !name.is_empty() && pattern.is_empty() {
                safe_pattern(&result, &prefix)?
            } else {
                pattern
            };
            let modifier = p.try_modifier();
            result.push(Token::Key {
                name: key_name,
                prefix,
                suffix,
                pattern,
                modifier,
            });
            continue;
        }
        p.must(Lex::End)?;
    }
    Ok(result)
}

fn tokens_to_regex(tokens: &[Token], keys: &mut Vec<Key>) -> Result<String, String> {
    let mut route = String::from("^");
    for token in tokens {
        match token {
            Token::Text(s) => route.push_str(&regex::escape(s)),
            Token::Key {
                name,
                prefix,
                suffix,
                pattern,
                modifier,
            } => {
                let pre = regex::escape(prefix);
                let suf = regex::escape(suffix);
                let modifier_str = modifier.map(String::from).unwrap_or_default();
                let repeated = matches!(modifier, Some('*' | '+'));
                if pattern.is_empty() {
                    route.push_str(&format!("(?:{pre}{suf}){modifier_str}"));
                    continue;
                }
                let group = format!("k{}", keys.len());
                keys.push(Key {
                    group: group.clone(),
                    name: name.clone(),
                });
                if !pre.is_empty() || !suf.is_empty() {
                    if repeated {
                        let optional = if *modifier == Some('*') { "?" } else { "" };
                        route.push_str(&format!(
                            "(?:{pre}(?P<{group}>(?:{pattern})(?:{suf}{pre}(?:{pattern}))*){suf}){optional}"
                        ));
                    } else {
                        route.push_str(&format!(
                            "(?:{pre}(?P<{group}>{pattern}){suf}){modifier_str}"
                        ));
                    }
                } else {
                    if repeated {
                        return Err(format!(
                            "Can not repeat \"{name}\" without a prefix and suffix"
                        ));
                    }
                    route.push_str(&format!("(?P<{group}>{pattern}){modifier_str}"));
                }
            }
        }
    }
    route.push_str("[/#?]?$");
    Ok(route)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn source(pattern: &str) -> String {
        tokens_to_regex(&parse(pattern).unwrap(), &mut Vec::new()).unwrap()
    }

    #[test]
    fn generates_path_to_regexp_sources() {
        assert_eq!(source("/orgs/:slug"), r"^/orgs(?:/(?P<k0>[^/#?]+?))[/#?]?$");
        assert_eq!(source("/orgs/:id?"), r"^/orgs(?:/(?P<k0>[^/#?]+?))?[/#?]?$");
        assert_eq!(source("/orgs/(.*)"), r"^/orgs(?:/(?P<k0>.*))[/#?]?$");
        assert_eq!(
            source("/:p*"),
            r"^(?:/(?P<k0>(?:[^/#?]+?)(?:/(?:[^/#?]+?))*))?[/#?]?$"
        );
        assert_eq!(
            source("/a{-:b}?"),
            r"^/a(?:\-(?P<k0>[^/#?\x{2D}]+?))?[/#?]?$"
        );
        assert_eq!(source("/a{/:b}?"), r"^/a(?:/(?P<k0>[^/#?]+?))?[/#?]?$");
        assert_eq!(
            source("/:a-:b"),
            r"^(?:/(?P<k0>[^/#?]+?))\-(?P<k1>[^/#?\x{2D}]+?)[/#?]?$"
        );
        assert_eq!(source("/me"), r"^/me[/#?]?$");
    }

    #[test]
    fn rejects_what_path_to_regexp_rejects() {
        for bad in [
            "/orgs/*",
            "/orgs/:",
            "/orgs/(",
            "/orgs/()",
            "/orgs/(?x)",
            "/orgs/((a))",
            "/:a:b",
            "(.*)*",
            "/orgs/{:id",
            "/x\\",
        ] {
            assert!(
                parse(bad)
                    .and_then(|t| tokens_to_regex(&t, &mut Vec::new()))
                    .is_err(),
                "{bad}"
            );
        }
    }
}
