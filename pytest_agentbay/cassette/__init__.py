"""Record/replay without pytest or vcrpy: match keys, scrubbing, tapes and cassette files."""
