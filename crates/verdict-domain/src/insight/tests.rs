use super::*;
use Outcome::{Failed as F, None as N, Passed as P, Skipped as S};

fn e(test_id: i64, outcome: Outcome) -> SetEntry {
    SetEntry {
        test_id,
        context: 0,
        outcome,
        flaky: false,
        muted: false,
    }
}

fn story(outcomes: &[Outcome]) -> Vec<StoryEntry> {
    outcomes
        .iter()
        .enumerate()
        .map(|(i, o)| StoryEntry {
            outcome: *o,
            flaky: false,
            started: i as i64,
            duration: 100,
        })
        .collect()
}

#[test]
fn comparison_classifies_each_test() {
    let previous = [e(1, P), e(2, F), e(3, F), e(4, P), e(6, S)];
    let current = [e(1, F), e(2, F), e(3, P), e(5, P), e(6, F), e(7, P)];
    let seen: HashSet<TestContext> = [(7, 0)].into();
    let c = compare(&current, Some(&previous), &seen);
    assert_eq!(
        c.new_failures,
        vec![(1, 0), (6, 0)],
        "skipped before is not failed"
    );
    assert_eq!(c.still_failing, vec![(2, 0)]);
    assert_eq!(c.fixed, vec![(3, 0)]);
    assert_eq!(
        c.new_tests,
        vec![(5, 0)],
        "7 was seen earlier in the series"
    );
    assert_eq!(c.removed, vec![(4, 0)]);
    assert_eq!(absent_before(&current, &previous), vec![(5, 0), (7, 0)]);
}

#[test]
fn first_set_of_a_series_is_all_new() {
    let c = compare(&[e(1, F), e(2, P)], None, &HashSet::new());
    assert_eq!(c.new_failures, vec![(1, 0)]);
    assert_eq!(c.new_tests, vec![(1, 0), (2, 0)]);
}

#[test]
fn muted_failures_are_apart_and_flaky_passes_listed() {
    let mut muted = e(1, F);
    muted.muted = true;
    let mut flaky = e(2, P);
    flaky.flaky = true;
    let c = compare(&[muted, flaky], Some(&[e(1, P), e(2, P)]), &HashSet::new());
    assert!(c.new_failures.is_empty());
    assert_eq!(c.muted_failures, vec![(1, 0)]);
    assert_eq!(c.flaky, vec![(2, 0)]);
}

#[test]
fn contexts_are_compared_apart() {
    let on = |test_id, context, outcome| SetEntry {
        test_id,
        context,
        outcome,
        flaky: false,
        muted: false,
    };
    let c = compare(
        &[on(1, 10, F), on(1, 20, F)],
        Some(&[on(1, 10, F)]),
        &HashSet::new(),
    );
    assert_eq!(c.still_failing, vec![(1, 10)]);
    assert_eq!(
        c.new_failures,
        vec![(1, 20)],
        "a test failing in a new context is a new failure there"
    );
}

#[test]
fn two_results_in_one_set_fold_by_severity() {
    // a failure next to a pass in one set is a flip within it: flaky
    let c = compare(&[e(1, P), e(1, F)], Some(&[e(1, P)]), &HashSet::new());
    assert!(c.new_failures.is_empty());
    assert_eq!(c.flaky, vec![(1, 0)]);
    // a pass over a skip: fixed when it failed before
    let c = compare(&[e(2, S), e(2, P)], Some(&[e(2, F)]), &HashSet::new());
    assert_eq!(c.fixed, vec![(2, 0)]);
    // a failure over a skip stands
    let c = compare(&[e(3, S), e(3, F)], Some(&[e(3, P)]), &HashSet::new());
    assert_eq!(c.new_failures, vec![(3, 0)]);
    assert!(Outcome::Failed.severity() > Outcome::Passed.severity());
    assert!(Outcome::Passed.severity() > Outcome::Skipped.severity());
    assert!(Outcome::Skipped.severity() > Outcome::None.severity());
}

#[test]
fn streak_boundaries() {
    assert_eq!(failing_since(&story(&[P, P])), None);
    assert_eq!(failing_since(&story(&[])), None);
    // skipped results neither break nor start a streak
    let s = failing_since(&story(&[P, F, S, F, N, F])).unwrap_or(Streak {
        since: 99,
        last_passed: None,
        failures: 0,
    });
    assert_eq!((s.since, s.last_passed, s.failures), (1, Some(0), 3));
    let s = failing_since(&story(&[F, F])).unwrap_or(Streak {
        since: 99,
        last_passed: None,
        failures: 0,
    });
    assert_eq!((s.since, s.last_passed), (0, None), "never passed");
    let s = failing_since(&story(&[F, P, S, F])).unwrap_or(Streak {
        since: 99,
        last_passed: None,
        failures: 0,
    });
    assert_eq!((s.since, s.last_passed), (3, Some(1)));
    assert_eq!(
        failing_since(&story(&[F, S])).map(|s| s.since),
        Some(0),
        "a skip after the failure keeps it failing"
    );
}

#[test]
fn window_figures_follow_the_definitions() {
    let mut h = story(&[F, P, F, F, S, P, P]);
    h[6].flaky = true;
    let f = window_figures(&h, 30);
    assert_eq!((f.runs, f.passed, f.failed), (6, 3, 3));
    assert_eq!(f.flips, 3);
    assert_eq!(f.flaky_marked, 1);
    assert!((f.flakiness - 4.0 / 6.0).abs() < 1e-9);
    assert_eq!(f.times_broken, 2);
    assert_eq!(f.flip_at, vec![1, 2, 5]);
    // a window of 2 (P P): no flip inside it; the fail before it ended no streak inside
    let f = window_figures(&h, 2);
    assert_eq!((f.runs, f.flips, f.times_broken), (2, 0, 0));
    let f = window_figures(&story(&[P, F]), 1);
    assert_eq!(
        (f.runs, f.flips, f.times_broken),
        (1, 0, 1),
        "a streak starting inside the window"
    );
    let f = window_figures(&story(&[F, F]), 1);
    assert_eq!(f.times_broken, 0, "a streak that started before the window");
}

#[test]
fn durations_and_slowing_down() {
    let mut h = story(&[P; 9]);
    for (i, entry) in h.iter_mut().enumerate() {
        entry.duration = if i < 3 {
            1_000
        } else if i < 6 {
            1_100
        } else {
            1_500
        };
    }
    let f = window_figures(&h, 30);
    assert_eq!(f.duration_median, Some(1_100));
    assert_eq!(f.duration_p95, Some(1_500));
    assert!(f.got_slower);
    // +20 % but under 100 ms is noise
    for (i, entry) in h.iter_mut().enumerate() {
        entry.duration = if i < 3 { 100 } else { 190 };
    }
    assert!(!window_figures(&h, 30).got_slower);
    assert_eq!(percentile(&[], 50), None);
    assert_eq!(percentile(&[5], 95), Some(5));
}

#[test]
fn outcome_codes_round_trip() {
    for o in [N, P, F, S] {
        assert_eq!(Outcome::from_code(o.code()), o);
        assert_eq!(Outcome::parse(o.key()), Some(o));
    }
    assert_eq!(Outcome::from_status_key("failed"), F);
    assert_eq!(Outcome::from_status_key("planned"), N);
}
