//! The traits behind the `append` and `merge` reducers, implemented for the std collections.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt::Debug;
use std::hash::{BuildHasher, Hash};

/// A collection that `#[reducer(append)]` extends with the incoming items, in order.
pub trait Append {
    /// Appends `incoming` to `self`.
    fn append(&mut self, incoming: Self);
}

impl<T> Append for Vec<T> {
    fn append(&mut self, mut incoming: Self) {
        Vec::append(self, &mut incoming);
    }
}

impl<T> Append for VecDeque<T> {
    fn append(&mut self, mut incoming: Self) {
        VecDeque::append(self, &mut incoming);
    }
}

impl Append for String {
    fn append(&mut self, incoming: Self) {
        self.push_str(&incoming);
    }
}

impl<T: Ord> Append for BTreeSet<T> {
    fn append(&mut self, incoming: Self) {
        self.extend(incoming);
    }
}

impl<T: Eq + Hash, H: BuildHasher> Append for HashSet<T, H> {
    fn append(&mut self, incoming: Self) {
        self.extend(incoming);
    }
}

/// A map that `#[reducer(merge)]` unites with the incoming entries.
pub trait MergeMap {
    /// A key present in both maps, debug-formatted; `None` when they are disjoint.
    fn shared_key(&self, other: &Self) -> Option<String>;
    /// Inserts every incoming entry, replacing existing keys.
    fn merge_from(&mut self, incoming: Self);
}

impl<K: Ord + Debug, V> MergeMap for BTreeMap<K, V> {
    fn shared_key(&self, other: &Self) -> Option<String> {
        other
            .keys()
            .find(|k| self.contains_key(*k))
            .map(|k| format!("{k:?}"))
    }

    fn merge_from(&mut self, incoming: Self) {
        self.extend(incoming);
    }
}

impl<K: Eq + Hash + Debug, V, H: BuildHasher> MergeMap for HashMap<K, V, H> {
    fn shared_key(&self, other: &Self) -> Option<String> {
        other
            .keys()
            .find(|k| self.contains_key(*k))
            .map(|k| format!("{k:?}"))
    }

    fn merge_from(&mut self, incoming: Self) {
        self.extend(incoming);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_keeps_order() {
        let mut a = vec![1, 2];
        Append::append(&mut a, vec![3, 4]);
        assert_eq!(a, [1, 2, 3, 4]);
        let mut s = String::from("ab");
        Append::append(&mut s, "cd".into());
        assert_eq!(s, "abcd");
    }

    #[test]
    fn merge_reports_shared_keys() {
        let mut a = BTreeMap::from([("x", 1)]);
        let b = BTreeMap::from([("y", 2)]);
        let c = BTreeMap::from([("x", 3)]);
        assert_eq!(a.shared_key(&b), None);
        assert_eq!(a.shared_key(&c).as_deref(), Some("\"x\""));
        a.merge_from(b);
        assert_eq!(a.len(), 2);
    }
}
