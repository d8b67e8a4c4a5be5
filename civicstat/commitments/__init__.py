"""The app's own database: the commitments staff record at CitiStat meetings and every change to
them (civicstat.commitments.store). What a commitment is and how the data judges it lives in
civicstat.core.commitments."""
