//! Windows event XML: `<Event>` elements, each an event (a broken one is skipped with its
//! offset).

use std::io::BufRead;

use super::Ingestor;
use crate::Error;
use crate::event::XmlEvents;
use crate::report::Location;

impl Ingestor<'_> {
    pub(crate) fn read_xml(&mut self, reader: Box<dyn BufRead + Send>) -> Result<(), Error> {
        for item in XmlEvents::new(reader) {
            match item {
                Ok(ev) => self.event(&ev)?,
                Err(e) => self.skip(Location::Offset(e.offset), e.reason),
            }
        }
        Ok(())
    }
}
