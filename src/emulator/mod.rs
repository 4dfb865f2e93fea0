//! The ARM emulator: a stand-in for Azure Resource Manager that behaves like the real thing.
