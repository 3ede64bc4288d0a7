//! The end-of-batch tally on standard error
//! (`68 domains: 39 with errors, 14 with warnings, 15 clean`): each domain
//! counted once, under its status (`DomainStatus`), so the parts add up to
//! the whole.

use crate::document::{DomainReport, DomainStatus};

/// Domains seen so far, by status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub errors: usize,
    pub untested: usize,
    /// Of the untested, those the scanner's own DNS queue left untold
    /// (the others had no MX address that could be probed).
    pub overloaded: usize,
    pub warnings: usize,
    pub clean: usize,
    /// Findings accepted with `--ignore`, over all domains.
    pub ignored_findings: usize,
}

impl Tally {
    /// Counts one finished domain.
    pub fn add(&mut self, r: &DomainReport) {
        self.add_status(r.status(), r.ignored());
        if r.status() == DomainStatus::Untested && r.dns_overloaded() {
            self.overloaded += 1;
        }
    }

    /// Counts a domain of this status with this many ignored findings.
    pub fn add_status(&mut self, status: DomainStatus, ignored: usize) {
        match status {
            DomainStatus::Errors => self.errors += 1,
            DomainStatus::Untested => self.untested += 1,
            DomainStatus::Warnings => self.warnings += 1,
            DomainStatus::Clean => self.clean += 1,
        }
        self.ignored_findings += ignored;
    }

    /// Domains counted.
    pub fn domains(&self) -> usize {
        self.errors + self.untested + self.warnings + self.clean
    }

    /// Why the untested domains could not be told.
    pub fn why_untested(&self) -> String {
        const UNPROBED: &str = "no MX address could be probed";
        const QUEUE: &str = "the scanner's own DNS queue was full";
        match (
            self.untested - self.overloaded.min(self.untested),
            self.overloaded,
        ) {
            (_, 0) => UNPROBED.to_string(),
            (0, _) => QUEUE.to_string(),
            (unprobed, queue) => format!("{unprobed}: {UNPROBED}; {queue}: {QUEUE}"),
        }
    }

    /// The tally line, without a newline.
    pub fn line(&self) -> String {
        let mut parts = vec![
            format!("{} with errors", self.errors),
            format!("{} with warnings", self.warnings),
        ];
        if self.untested > 0 {
            parts.push(format!(
                "{} untested ({})",
                self.untested,
                self.why_untested()
            ));
        }
        parts.push(format!("{} clean", self.clean));
        let n = self.domains();
        let mut line = format!(
            "{n} domain{}: {}",
            if n == 1 { "" } else { "s" },
            parts.join(", ")
        );
        if self.ignored_findings > 0 {
            line.push_str(&format!(
                "; {} finding{} ignored (--ignore)",
                self.ignored_findings,
                if self.ignored_findings == 1 { "" } else { "s" }
            ));
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parts_add_up_to_the_domains_counted() {
        let mut t = Tally::default();
        for _ in 0..39 {
            t.add_status(DomainStatus::Errors, 0);
        }
        for _ in 0..14 {
            t.add_status(DomainStatus::Warnings, 0);
        }
        for _ in 0..15 {
            t.add_status(DomainStatus::Clean, 0);
        }
        assert_eq!(
            t.line(),
            "68 domains: 39 with errors, 14 with warnings, 15 clean"
        );
    }

    #[test]
    fn untested_domains_and_ignored_findings_are_named_when_there_are_some() {
        let mut t = Tally::default();
        t.add_status(DomainStatus::Untested, 0);
        t.add_status(DomainStatus::Clean, 1);
        assert_eq!(
            t.line(),
            "2 domains: 0 with errors, 0 with warnings, 1 untested (no MX address could be probed), 1 clean; 1 finding ignored (--ignore)"
        );
    }

    #[test]
    fn untested_domains_say_whether_the_scanners_own_queue_was_the_cause() {
        let mut t = Tally::default();
        t.add_status(DomainStatus::Untested, 0);
        t.overloaded += 1;
        assert_eq!(
            t.line(),
            "1 domain: 0 with errors, 0 with warnings, 1 untested (the scanner's own DNS queue was full), 0 clean"
        );
        t.add_status(DomainStatus::Untested, 0);
        t.add_status(DomainStatus::Untested, 0);
        assert_eq!(
            t.why_untested(),
            "2: no MX address could be probed; 1: the scanner's own DNS queue was full"
        );
    }
}
