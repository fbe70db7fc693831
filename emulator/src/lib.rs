//! An emulator of the Auth0 Management API (connection profiles).
