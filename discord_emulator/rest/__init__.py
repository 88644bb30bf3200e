"""The REST half of the emulator: `/api/v10/...` routes, grouped by resource."""
