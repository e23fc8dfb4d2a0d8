//! Snapshot tests of rendered pages: review every change as code.
