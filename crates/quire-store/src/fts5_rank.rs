//! `quire_rank`, the FTS5 ranking function SQLite search sorts by.
//!
//! FTS5's own `bm25()` weighs each query word by how rare it is in the
//! whole archive, and learns that by reading every match of every word:
//! on 100,000 papers a common word costs ~13 ms and a phrase of common
//! words ~80 ms, before a single result is ranked. `quire_rank` scores a
//! row from that row alone (BM25F: hits per column, weighted, normalised
//! by the column's length against its average, saturated), so ranking
//! the newest matches costs the same whatever the archive's size. Every
//! result holds every query word, so what a word's rarity would add is
//! small next to where (title, summary, body) and how often it occurs.
//!
//! This is the one place Quire calls SQLite's C API directly: sqlx has no
//! way to register an FTS5 auxiliary function. The code only reads through
//! the pointers FTS5 hands it, checks every return code, and never lets a
//! panic cross into C.

#![expect(unsafe_code, reason = "FTS5 auxiliary functions exist only in SQLite's C API")]

use libsqlite3_sys as ffi;
use std::ffi::{c_int, c_void};
use std::ptr::{self, NonNull};

/// Term-frequency saturation (BM25's k1).
const K1: f64 = 1.2;
/// How much a column's length discounts its hits (BM25's b).
const B: f64 = 0.75;

/// Registers `quire_rank(table, weight, …)` on one connection: one weight
/// per column, in column order (missing weights count 1). Higher is better.
pub(super) fn register(db: NonNull<ffi::sqlite3>) -> Result<(), String> {
    // SAFETY: `db` is an open connection that sqlx has locked for us; the
    // statement is finalised before returning, and `api` is only written
    // by SQLite during `sqlite3_step`, while it is alive on this stack.
    unsafe {
        let db = db.as_ptr();
        let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
        let rc = ffi::sqlite3_prepare_v2(db, c"SELECT fts5(?1)".as_ptr(), -1, &mut stmt, ptr::null_mut());
        if rc != ffi::SQLITE_OK {
            return Err(format!("FTS5 is not available (SQLite error {rc})"));
        }
        let mut api: *mut ffi::fts5_api = ptr::null_mut();
        ffi::sqlite3_bind_pointer(stmt, 1, (&raw mut api).cast::<c_void>(), c"fts5_api_ptr".as_ptr(), None);
        ffi::sqlite3_step(stmt);
        ffi::sqlite3_finalize(stmt);
        let Some(create) = api.as_ref().and_then(|a| a.xCreateFunction) else {
            return Err("FTS5 did not hand out its API".into());
        };
        let rc = create(api, c"quire_rank".as_ptr(), ptr::null_mut(), Some(quire_rank), None);
        if rc != ffi::SQLITE_OK {
            return Err(format!("could not register quire_rank (SQLite error {rc})"));
        }
    }
    Ok(())
}

/// The function FTS5 calls once per ranked row.
unsafe extern "C" fn quire_rank(
    api: *const ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    ctx: *mut ffi::sqlite3_context,
    n_val: c_int,
    vals: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: FTS5 passes a valid API table and context for this row, and
    // `n_val` values in `vals`; both live until this call returns.
    let score = std::panic::catch_unwind(|| unsafe { score(api, fts, n_val, vals) });
    // SAFETY: `ctx` is the live result context of this call.
    unsafe {
        match score {
            Ok(Some(s)) => ffi::sqlite3_result_double(ctx, s),
            _ => ffi::sqlite3_result_error(ctx, c"quire_rank could not read the match".as_ptr(), -1),
        }
    }
}

/// Per-column statistics of one row, gathered from FTS5.
struct RowStats {
    weights: Vec<f64>,
    /// Tokens in each column of this row.
    lengths: Vec<f64>,
    /// Average tokens per column over the table.
    averages: Vec<f64>,
    /// Hits per (phrase, column), phrase-major.
    hits: Vec<u32>,
    phrases: usize,
}

/// SAFETY: the caller passes what FTS5 passed to [`quire_rank`].
unsafe fn score(
    api: *const ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    n_val: c_int,
    vals: *mut *mut ffi::sqlite3_value,
) -> Option<f64> {
    // SAFETY: as the caller promises; each function pointer is checked
    // before it is called and every out-parameter is a local.
    unsafe {
        let api = api.as_ref()?;
        let columns = usize::try_from((api.xColumnCount?)(fts)).ok()?;
        let phrases = usize::try_from((api.xPhraseCount?)(fts)).ok()?;
        let mut stats = RowStats {
            weights: Vec::with_capacity(columns),
            lengths: Vec::with_capacity(columns),
            averages: averages(api, fts, columns)?,
            hits: vec![0; phrases * columns],
            phrases,
        };
        for col in 0..columns {
            let i = c_int::try_from(col).ok()?;
            stats.weights.push(if i < n_val && !vals.is_null() {
                ffi::sqlite3_value_double(*vals.add(col))
            } else {
                1.0
            });
            let mut len: c_int = 0;
            if (api.xColumnSize?)(fts, i, &mut len) != ffi::SQLITE_OK {
                return None;
            }
            stats.lengths.push(f64::from(len));
        }
        let mut instances: c_int = 0;
        if (api.xInstCount?)(fts, &mut instances) != ffi::SQLITE_OK {
            return None;
        }
        let inst = api.xInst?;
        for i in 0..instances {
            let (mut phrase, mut col, mut offset): (c_int, c_int, c_int) = (0, 0, 0);
            if inst(fts, i, &mut phrase, &mut col, &mut offset) != ffi::SQLITE_OK {
                return None;
            }
            let (p, c) = (usize::try_from(phrase).ok()?, usize::try_from(col).ok()?);
            if p < phrases && c < columns {
                stats.hits[p * columns + c] += 1;
            }
        }
        Some(bm25f(&stats))
    }
}

/// Average tokens per column over the table, read once per query and kept
/// with it (FTS5 would read them from disk again for every row).
///
/// SAFETY: `api` and `fts` are what FTS5 passed to [`quire_rank`].
unsafe fn averages(api: &ffi::Fts5ExtensionApi, fts: *mut ffi::Fts5Context, columns: usize) -> Option<Vec<f64>> {
    // SAFETY: the pointer kept with the query is one this function made
    // from a `Box<Vec<f64>>`, freed only by `drop_averages`.
    unsafe {
        let kept = (api.xGetAuxdata?)(fts, 0).cast::<Vec<f64>>();
        if let Some(kept) = kept.as_ref() {
            return Some(kept.clone());
        }
        let mut rows: ffi::sqlite3_int64 = 0;
        if (api.xRowCount?)(fts, &mut rows) != ffi::SQLITE_OK {
            return None;
        }
        let mut averages = Vec::with_capacity(columns);
        for col in 0..columns {
            let mut total: ffi::sqlite3_int64 = 0;
            if (api.xColumnTotalSize?)(fts, c_int::try_from(col).ok()?, &mut total) != ffi::SQLITE_OK {
                return None;
            }
            averages.push(total as f64 / rows.max(1) as f64);
        }
        let kept = Box::into_raw(Box::new(averages.clone())).cast::<c_void>();
        // Should FTS5 fail to keep it, it frees it itself; the next row
        // then reads the averages again.
        let _ = (api.xSetAuxdata?)(fts, kept, Some(drop_averages));
        Some(averages)
    }
}

/// Frees what [`averages`] kept with a query.
unsafe extern "C" fn drop_averages(kept: *mut c_void) {
    if !kept.is_null() {
        // SAFETY: made by `Box::into_raw` in `averages`, freed once, here.
        drop(unsafe { Box::from_raw(kept.cast::<Vec<f64>>()) });
    }
}

/// BM25F without word rarity: per phrase, the weighted, length-normalised
/// hits of every column, saturated once, summed over phrases.
fn bm25f(s: &RowStats) -> f64 {
    let columns = s.weights.len();
    (0..s.phrases)
        .map(|p| {
            let tf: f64 = (0..columns)
                .map(|c| {
                    let avg = if s.averages[c] > 0.0 { s.averages[c] } else { 1.0 };
                    s.weights[c] * f64::from(s.hits[p * columns + c]) / (1.0 - B + B * s.lengths[c] / avg)
                })
                .sum();
            tf * (K1 + 1.0) / (tf + K1)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(hits: &[u32], lengths: &[f64]) -> RowStats {
        RowStats {
            weights: vec![10.0, 4.0, 1.0, 0.0],
            lengths: lengths.to_vec(),
            averages: vec![10.0, 40.0, 2000.0, 4.0],
            hits: hits.to_vec(),
            phrases: hits.len() / 4,
        }
    }

    #[test]
    fn title_outweighs_summary_outweighs_body_and_facets_count_nothing() {
        let len = [10.0, 40.0, 2000.0, 4.0];
        let title = bm25f(&stats(&[1, 0, 0, 0], &len));
        let summary = bm25f(&stats(&[0, 1, 0, 0], &len));
        let body = bm25f(&stats(&[0, 0, 1, 0], &len));
        let facet = bm25f(&stats(&[0, 0, 0, 1], &len));
        assert!(
            title > summary && summary > body && body > 0.0,
            "{title} {summary} {body}"
        );
        assert_eq!(facet, 0.0);
    }

    #[test]
    fn hits_saturate_and_long_bodies_count_less() {
        let len = [10.0, 40.0, 2000.0, 4.0];
        let one = bm25f(&stats(&[0, 0, 1, 0], &len));
        let ten = bm25f(&stats(&[0, 0, 10, 0], &len));
        let hundred = bm25f(&stats(&[0, 0, 100, 0], &len));
        assert!(ten > one && hundred > ten);
        assert!(hundred - ten < ten - one, "more hits add less and less");
        let long = bm25f(&stats(&[0, 0, 10, 0], &[10.0, 40.0, 8000.0, 4.0]));
        assert!(long < ten);
        // Two phrases each found once beat one phrase found twice.
        let both = bm25f(&stats(&[0, 0, 1, 0, 0, 0, 1, 0], &len));
        let twice = bm25f(&stats(&[0, 0, 2, 0, 0, 0, 0, 0], &len));
        assert!(both > twice);
    }
}
