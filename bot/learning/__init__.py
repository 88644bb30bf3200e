"""The learning log: minutes a day, streaks on members' local days, reminders, paths and levels."""
