// Ken, a child process: attaches his end of the pipe (a token in argv) and sends Jack a rose.
import { attach, type SocketConnection } from '@conc/pipe';

const conn = attach(JSON.parse(process.argv[2] as string)) as SocketConnection<{
  gift: string;
  from: string;
}>;
await conn.send({ gift: 'rose', from: 'Ken' });
process.send?.(`Ken (pid ${process.pid}): send({ gift: 'rose', from: 'Ken' })`);
await conn.close();
