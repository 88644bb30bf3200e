"""Weekly chats: questions in a thread at an interval, counted answers, a summary."""
