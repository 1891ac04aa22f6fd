//! The atoms of the clipboard protocol (ICCCM section 2).

x11rb::atom_manager! {
    /// Atoms the clipboard uses, interned once per connection.
    pub(super) Atoms: AtomsCookie {
        CLIPBOARD,
        TARGETS,
        ATOM,
        INCR,
        UTF8_STRING,
        TEXT,
        TEXT_PLAIN_UTF8: b"text/plain;charset=utf-8",
        // The properties our requests ask owners to write the text into: one
        // per requestor window, so a late answer to one cannot be taken for
        // the other's.
        WATCH_PROPERTY: b"_RA_CLIPBOARD_WATCH",
        READ_PROPERTY: b"_RA_CLIPBOARD_READ",
    }
}
