//! End-to-end tests of the generated GoCD client against the fake GoCD of `fake_servers::gocd` (see `tests/`).
