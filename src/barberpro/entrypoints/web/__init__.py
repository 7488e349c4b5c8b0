"""Server-rendered web pages: customer booking, manage-my-booking, staff agenda and admin."""
