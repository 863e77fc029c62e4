//! PKCS#11 module for CPS cards.
