//! The calendar every clock is counted with, shared by the service's consumers, commands
//! and timers, and replaced whole when an administrator loads a year's notice.

use std::sync::{Arc, RwLock};

use crate::calendar::HolidayCalendar;

#[derive(Debug)]
pub struct Calendars {
    current: RwLock<Arc<HolidayCalendar>>,
}

impl Calendars {
    pub fn new(calendar: HolidayCalendar) -> Self {
        Self {
            current: RwLock::new(Arc::new(calendar)),
        }
    }

    pub fn current(&self) -> Arc<HolidayCalendar> {
        match self.current.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn replace(&self, calendar: HolidayCalendar) {
        let calendar = Arc::new(calendar);
        match self.current.write() {
            Ok(mut current) => *current = calendar,
            Err(poisoned) => *poisoned.into_inner() = calendar,
        }
    }
}
