//! What storage tells operators, through the `metrics` facade: whoever installed a recorder (the server, with its
//! Prometheus exporter) receives it; without one it costs nothing. Per-process figures only: what every server of
//! a cluster must report alike is read from the database at scrape time ([`crate::Store::operations`]).

/// Batches a group-commit writer committed (or failed), by writer: `lodgements` or `ledger`.
pub const WRITER_BATCH_SIZE: &str = "aduana_writer_batch_size";
/// Time a writer took for a batch, from taking the lock to its commit.
pub const WRITER_BATCH_SECONDS: &str = "aduana_writer_batch_seconds";
/// Batches that failed as a whole (an error or a panic while writing), by writer.
pub const WRITER_BATCHES_FAILED: &str = "aduana_writer_batches_failed_total";
/// From lodgement to release, for each declaration released: the Time Release Study's headline figure, live.
pub const LODGEMENT_TO_RELEASE_SECONDS: &str = "aduana_lodgement_to_release_seconds";

/// Describes the metrics above to the installed recorder (their `# HELP` lines).
pub fn describe() {
    metrics::describe_histogram!(
        WRITER_BATCH_SIZE,
        "Jobs per batch of a group-commit writer (SQLite), by writer."
    );
    metrics::describe_histogram!(
        WRITER_BATCH_SECONDS,
        metrics::Unit::Seconds,
        "Time to write and commit one batch of a group-commit writer (SQLite), by writer."
    );
    metrics::describe_counter!(
        WRITER_BATCHES_FAILED,
        "Batches of a group-commit writer that failed as a whole, by writer."
    );
    metrics::describe_histogram!(
        LODGEMENT_TO_RELEASE_SECONDS,
        metrics::Unit::Seconds,
        "Time from lodgement to release of each declaration released."
    );
}

pub(crate) fn batch(writer: &'static str, size: usize, started: std::time::Instant, ok: bool) {
    metrics::histogram!(WRITER_BATCH_SIZE, "writer" => writer).record(size as f64);
    metrics::histogram!(WRITER_BATCH_SECONDS, "writer" => writer)
        .record(started.elapsed().as_secs_f64());
    if !ok {
        metrics::counter!(WRITER_BATCHES_FAILED, "writer" => writer).increment(1);
    }
}

/// A declaration lodged at `lodged_at` released at `released_at` (both as stored), once its transaction committed.
pub(crate) fn released(lodged_at: &str, released_at: &str) {
    if let (Ok(lodged), Ok(released)) =
        (crate::parse_time(lodged_at), crate::parse_time(released_at))
    {
        let seconds = (released - lodged).as_seconds_f64().max(0.0);
        metrics::histogram!(LODGEMENT_TO_RELEASE_SECONDS).record(seconds);
    }
}
