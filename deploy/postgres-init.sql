-- One database per service: no service reads another's tables.
CREATE DATABASE identity;
CREATE DATABASE notification;
CREATE DATABASE profile;
CREATE DATABASE assessment;
CREATE DATABASE selection;
CREATE DATABASE wallet;
