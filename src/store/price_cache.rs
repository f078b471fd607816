//! The Price List's answers kept in the state directory (`prices.json`), read and
//! written whole.

use crate::savings::PriceCache;

/// The price cache's file name in the state directory.
pub const CACHE_FILE: &str = "prices.json";

/// Why the price cache cannot be read or written; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("price cache {}: {source}", path.display())]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("price cache {}: not a price cache: {what}", path.display())]
    Unreadable { path: std::path::PathBuf, what: String },
}

/// The cache in `path`; empty when there is no such file.
pub fn read_cache(path: &std::path::Path) -> Result<PriceCache, CacheError> {
    match std::fs::read_to_string(path) {
        Ok(text) => PriceCache::from_json(&text).map_err(|what| CacheError::Unreadable { path: path.into(), what }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(PriceCache::default()),
        Err(source) => Err(CacheError::Io { path: path.into(), source }),
    }
}

/// Writes the cache to `path` whole or not at all (a temporary file renamed over it).
pub fn write_cache(path: &std::path::Path, cache: &PriceCache) -> Result<(), CacheError> {
    let io = |source| CacheError::Io { path: path.into(), source };
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, cache.to_json()).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::{ec2, rds};
    use crate::model::Deployment;
    use crate::savings::Price;

    fn usd(text: &str) -> Option<Price> {
        Some(Price { per_hour: text.parse().unwrap(), currency: "USD".into() })
    }

    #[test]
    fn the_cache_file_round_trips_and_errors_name_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CACHE_FILE);
        assert_eq!(read_cache(&path).unwrap(), PriceCache::default(), "no file: empty");
        let mut cache = PriceCache::default();
        let t3 = ec2::price::product("eu-west-1", "t3.micro");
        cache.put(&t3, usd("0.0114").as_ref(), "2026-11-01T00:00:00Z".parse().unwrap());
        let pg = rds::price::product("eu-west-1", "db.t3.micro", "postgres", Deployment::MultiAz);
        cache.put(&pg, usd("0.036").as_ref(), "2026-11-01T00:00:00Z".parse().unwrap());
        write_cache(&path, &cache).unwrap();
        assert_eq!(read_cache(&path).unwrap(), cache);
        assert!(!path.with_extension("json.tmp").exists());
        std::fs::write(&path, "[").unwrap();
        let e = read_cache(&path).unwrap_err().to_string();
        assert!(e.starts_with(&format!("price cache {}: not a price cache: ", path.display())), "{e}");
        let e = write_cache(&dir.path().join("missing/prices.json"), &cache).unwrap_err().to_string();
        assert!(e.contains("missing/prices.json: No such file"), "{e}");
    }
}
