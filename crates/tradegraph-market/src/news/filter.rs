//! As-of selection shared by every news source.

use super::{NewsItem, NewsQuery};
use tradegraph_core::Timestamp;

/// The latest time a query may see: its `as_of`, never later than the clock's `now`.
pub(crate) fn cutoff(query: &NewsQuery, now: Timestamp) -> Timestamp {
    query.as_of.map_or(now, |as_of| as_of.min(now))
}

/// Keeps the items published in `(since, cutoff]`, newest first, without repeated ids, at most
/// `limit` of them. An id listed more than once (a story re-dated or updated under the same id)
/// is kept once, at its earliest publication in the window, wherever the copies are listed.
pub(crate) fn select(mut items: Vec<NewsItem>, query: &NewsQuery, now: Timestamp) -> Vec<NewsItem> {
    let cutoff = cutoff(query, now);
    items.retain(|item| {
        item.published <= cutoff && query.since.is_none_or(|since| item.published > since)
    });
    // Each id's copies next to each other, earliest first (stable: equal copies keep their
    // order), then the first of each.
    items.sort_by(|a, b| a.id.cmp(&b.id).then_with(|| a.published.cmp(&b.published)));
    items.dedup_by(|later, first| later.id == first.id);
    items.sort_by(|a, b| b.published.cmp(&a.published).then_with(|| a.id.cmp(&b.id)));
    items.truncate(query.limit);
    items
}

/// Whether `item` is about the query's symbol and topic (case-insensitive; unset matches all).
pub(crate) fn matches(item: &NewsItem, query: &NewsQuery) -> bool {
    let has = |list: &[String], wanted: &Option<String>| {
        wanted
            .as_deref()
            .is_none_or(|w| list.iter().any(|s| s.eq_ignore_ascii_case(w.trim())))
    };
    has(&item.symbols, &query.symbol) && has(&item.tags, &query.topic)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, secs: i64) -> NewsItem {
        NewsItem {
            id: id.to_owned(),
            published: Timestamp::from_secs(secs),
            source: "s".to_owned(),
            headline: "h".to_owned(),
            summary: String::new(),
            url: String::new(),
            symbols: vec!["BTC".to_owned()],
            tags: vec!["crypto".to_owned()],
            sentiment: None,
        }
    }

    #[test]
    fn nothing_after_the_clock_or_as_of_newest_first() {
        let items = vec![
            item("a", 10),
            item("b", 30),
            item("c", 20),
            item("d", 40),
            item("b", 30),
        ];
        let now = Timestamp::from_secs(35);
        let ids = |v: Vec<NewsItem>| v.into_iter().map(|i| i.id).collect::<Vec<_>>();
        assert_eq!(
            ids(select(items.clone(), &NewsQuery::new(), now)),
            ["b", "c", "a"]
        );
        let q = NewsQuery::new()
            .as_of(Timestamp::from_secs(25))
            .since(Timestamp::from_secs(10));
        assert_eq!(ids(select(items.clone(), &q, now)), ["c"]);
        // An as_of beyond the clock is clamped to the clock.
        let q = NewsQuery::new().as_of(Timestamp::from_secs(99)).limit(1);
        assert_eq!(ids(select(items, &q, now)), ["b"]);
    }

    #[test]
    fn an_id_listed_twice_is_kept_once_at_its_earliest_time() {
        let ids_and_times = |v: Vec<NewsItem>| {
            v.into_iter()
                .map(|i| (i.id, i.published.millis() / 1000))
                .collect::<Vec<_>>()
        };
        let now = Timestamp::from_secs(100);
        let listed = [item("s", 10), item("t", 20), item("s", 30), item("s", 5)];
        let mut reversed = listed.to_vec();
        reversed.reverse();
        for items in [listed.to_vec(), reversed] {
            assert_eq!(
                ids_and_times(select(items, &NewsQuery::new(), now)),
                [("t".to_owned(), 20), ("s".to_owned(), 5)]
            );
        }
        // The earliest copy inside the window.
        let q = NewsQuery::new().since(Timestamp::from_secs(8));
        assert_eq!(
            ids_and_times(select(listed.to_vec(), &q, now)),
            [("t".to_owned(), 20), ("s".to_owned(), 10)]
        );
    }

    #[test]
    fn symbol_and_topic_match_case_insensitively() {
        let it = item("a", 1);
        assert!(matches(
            &it,
            &NewsQuery::new().symbol("btc").topic("CRYPTO")
        ));
        assert!(!matches(&it, &NewsQuery::new().symbol("ETH")));
    }
}
