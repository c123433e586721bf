"""What comes in through any door is made safe here once: text normalised, JSON depth bounded, numbers and dates
kept within what the database and Python can hold. Every refusal says which field and why."""
