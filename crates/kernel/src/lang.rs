//! The two interface languages. Simplified Chinese is the default everywhere.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// Parses a `lang` cookie/query value; anything unknown falls back to Chinese.
    pub fn from_tag(tag: &str) -> Lang {
        if tag.trim().to_ascii_lowercase().starts_with("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// Anything that has a stable machine code and a message in both languages: validation
/// failures, API errors. The code never changes once published; the messages may improve.
pub trait Localized {
    fn code(&self) -> &'static str;
    fn message(&self, lang: Lang) -> String;
}
