import { configurationProblem } from './redis.configuration-problem.js';

describe('configurationProblem', () => {
  it.each([
    ['ERR DB index is out of range', /database number in REDIS_URL/],
    ['WRONGPASS invalid username-password pair or user is disabled.', /refuses the user name or password/],
    ['Master Client (10.0.0.1:6379): WRONGPASS invalid username-password pair or user is disabled.', /refuses the user name or password/],
    ['NOAUTH Authentication required.', /requires a password and none is given/],
    ['ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?', /leave REDIS_PASSWORD unset/],
    ["NOPERM User cache has no permissions to run the 'incr' command", /lacks a permission/],
  ])('%s is a configuration problem', (reason, hint) => {
    expect(configurationProblem(reason)).toMatch(hint);
  });

  it.each(['connect ECONNREFUSED 127.0.0.1:6379', 'Socket closed unexpectedly', 'READONLY You can\'t write against a read only replica.', 'LOADING Redis is loading the dataset in memory'])(
    '%s is not',
    (reason) => {
      expect(configurationProblem(reason)).toBeUndefined();
    },
  );
});
